using Castor.Application.Errors;
using Castor.Application.Keys;
using Castor.Storage.Batches;

namespace Castor.Application.Batches;

/// <summary>
/// One API's wire shapes for batch work (Gemini's, OpenAI's), implemented by its protocol adapter: the batch service and
/// workers store and move requests and results as that API's JSON without reading it, and call back here to parse,
/// run and write them. The rules (durability, leases, priority, states) stay in the application layer.
/// </summary>
public interface IBatchDialect
{
    /// <summary>Stored with each job (<c>gemini</c>, <c>openai</c>), so any node's worker finds the dialect that reads it.</summary>
    string Name { get; }

    /// <summary>
    /// One line of an input file (line numbers from 1): its key and its request, validated as the online call would
    /// validate it, or the line's error (<see cref="NewBatchRequest.Error"/>) when it is malformed or invalid.
    /// </summary>
    NewBatchRequest ParseLine(BatchKind kind, string model, string line, long lineNumber);

    /// <summary>
    /// The generation request a stored request runs as (null for an embedding request), so its prompt can be counted
    /// when it is enqueued; throws <see cref="CastorException"/> when it does not map to one.
    /// </summary>
    Generation.GenerationRequest? ToGenerationRequest(BatchKind kind, string model, string request);

    /// <summary>Runs one stored request at batch priority; a refused request throws <see cref="CastorException"/>.</summary>
    Task<BatchRequestResult> RunAsync(Caller caller, BatchKind kind, string model, string request, CancellationToken cancellationToken);

    /// <summary>The error's JSON as a result of this dialect (<c>{"code", "message", "status"}</c> for Gemini).</summary>
    string ErrorJson(CastorException error);

    /// <summary>One line (without its newline) of the job's output file for a finished request.</summary>
    string OutputLine(BatchKind kind, StoredBatchRequest request);
}
