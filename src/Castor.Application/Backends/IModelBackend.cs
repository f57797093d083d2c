using System.Threading.Channels;

namespace Castor.Application.Backends;

/// <summary>
/// A loaded model as the generation rules see it: what it is, how it tokenizes, and a way to run a prepared prompt.
/// Only Application types cross this surface, so a fake (in tests), a remote backend or a wrapper (metering) can stand
/// in for llama.cpp. Embedding and KV snapshots will join it as further members when they move onto the seam.
/// </summary>
public interface IModelBackend : IDisposable
{
    /// <summary>What the model is; fixed once it is loaded.</summary>
    ModelDescription Description { get; }

    /// <summary>Renders a conversation with the model's chat template and tokenizes it (BOS included where the model wants one).</summary>
    int[] TokenizePrompt(IReadOnlyList<PromptMessage> messages);

    /// <summary>
    /// Renders and tokenizes a conversation whose messages hold media (<see cref="PromptMessage.Media"/>). A backend
    /// without a projector refuses with a 400; the caller checks <see cref="ModelDescription.Projector"/> first, to name the part.
    /// </summary>
    MediaPrompt TokenizeMediaPrompt(IReadOnlyList<PromptMessage> messages) =>
        throw Errors.CastorException.InvalidArgument($"Model '{Description.Id}' takes text only; it cannot read images or audio.");

    /// <summary>Tokens of a marker such as <c>&lt;/think&gt;</c> (special tokens recognised).</summary>
    int[] TokenizeMarker(string text);

    /// <summary>Counts the tokens of plain text (no template, no BOS).</summary>
    int CountTokens(string text);

    /// <summary>
    /// Submits a prepared request. Refusals known at once (a full queue, a grammar llama.cpp rejects) are thrown here,
    /// before anything is streamed: <see cref="Errors.CastorException"/> for overload, <see cref="GrammarRejectedException"/>
    /// for the grammar. The reader completes after every candidate has finished (or after <see cref="BackendFailed"/>).
    /// </summary>
    ChannelReader<BackendEvent> Generate(BackendRequest request, CancellationToken cancellationToken);

    /// <summary>
    /// What a <see cref="KvSnapshot"/> must have been made under to be restored by this backend (weights and KV layout);
    /// empty when the backend cannot restore snapshots.
    /// </summary>
    string SnapshotIdentity => "";

    /// <summary>
    /// Computes the KV of <paramref name="tokens"/> (a prompt prefix; resident prefixes of <paramref name="partition"/>
    /// are reused) and returns it as a snapshot that <see cref="BackendRequest.PrefixSnapshot"/> restores later instead
    /// of computing those tokens again. Backends without KV state throw <see cref="NotSupportedException"/>.
    /// </summary>
    Task<KvSnapshot> SavePrefixSnapshotAsync(IReadOnlyList<int> tokens, string partition, CancellationToken cancellationToken) =>
        throw new NotSupportedException("This backend cannot save KV snapshots.");
}
