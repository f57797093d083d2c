namespace Castor.Hub;

/// <summary>A short name <c>castor pull</c> knows: the model id it gets, the hub repository it comes from, and the quantization pulled by default.</summary>
/// <param name="Id">The short name, which is also the model's id once pulled (the Gemini API's own name where it serves the model).</param>
/// <param name="Repository">The Hugging Face repository, <c>owner/name</c>.</param>
/// <param name="Quantization">The quantization tag in the published file name.</param>
/// <param name="Description">One line for <c>castor pull --list</c>.</param>
public sealed record KnownModel(string Id, string Repository, string Quantization, string Description);
