namespace Castor.Hub;

/// <summary>A model in the models folder after a pull: its id, where its files are, and where it came from.</summary>
/// <param name="Id">The model id the server gives it (its folder's name).</param>
/// <param name="Folder">models/{id}.</param>
/// <param name="ModelPath">The GGUF to load (a split model's first part).</param>
/// <param name="ProjectorPath">The multimodal projector beside it, if the repository had one.</param>
/// <param name="Source">What was pulled, as <c>owner/repo:quant</c> or <c>owner/repo/file.gguf</c>.</param>
/// <param name="Quantization">The quantization tag of the model file, when its name carries one.</param>
/// <param name="Bytes">All its files together.</param>
/// <param name="DownloadedBytes">What this pull fetched (0 when everything was already there).</param>
public sealed record PulledModel(string Id, string Folder, string ModelPath, string? ProjectorPath, string Source, string? Quantization, long Bytes, long DownloadedBytes);
