using System.Text.Json.Serialization;
using Castor.Api.Hosting;
using Castor.Application.Models;
using Castor.Storage.Relational;
using Microsoft.AspNetCore.Http;

namespace Castor.Server;

/// <summary>
/// <c>/readyz</c>: ready when at least one model is loaded, the database answers, and the server is not draining;
/// 200 with each check, or 503 naming what is wrong. <c>/healthz</c> only says the process is alive.
/// </summary>
internal static class Readiness
{
    private static readonly TimeSpan DatabaseTimeout = TimeSpan.FromSeconds(2);

    /// <summary>One check of /readyz: its name, whether it passed, and what it found.</summary>
    internal sealed record ReadinessCheck([property: JsonPropertyName("name")] string Name, [property: JsonPropertyName("ok")] bool Ok,
        [property: JsonPropertyName("detail")] string Detail);

    /// <summary>The body of /readyz.</summary>
    internal sealed record ReadinessReport([property: JsonPropertyName("status")] string Status, [property: JsonPropertyName("checks")] IReadOnlyList<ReadinessCheck> Checks);

    /// <summary>The body of /healthz.</summary>
    internal sealed record Liveness([property: JsonPropertyName("status")] string Status);

    public static async Task<IResult> ReadyAsync(ModelCatalogue catalogue, IRelationalDatabase database, ServerDrain drain, CancellationToken cancellationToken)
    {
        var generative = catalogue.Models.Count;
        var embedding = catalogue.EmbeddingModels.Count;
        var checks = new List<ReadinessCheck>
        {
            new("models", generative + embedding > 0, generative + embedding > 0
                ? $"{generative} generative, {embedding} embedding: {string.Join(", ", catalogue.Models.Select(m => m.Description.Id).Concat(catalogue.EmbeddingModels.Select(e => e.Id)))}"
                : "no model is loaded: pull one (castor pull) or put a .gguf in the models folder"),
            await DatabaseAsync(database, cancellationToken).ConfigureAwait(false),
            new("draining", !drain.IsDraining, drain.IsDraining
                ? $"the server is shutting down; {drain.InFlight} requests still running"
                : $"accepting requests; {drain.InFlight} running"),
        };
        var ready = checks.All(c => c.Ok);
        return Results.Json(new ReadinessReport(ready ? "ready" : "unavailable", checks),
            statusCode: ready ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable);
    }

    private static async Task<ReadinessCheck> DatabaseAsync(IRelationalDatabase database, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(DatabaseTimeout);
        try
        {
            await using var connection = await database.OpenConnectionAsync(timeout.Token).ConfigureAwait(false);
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT 1";
            await command.ExecuteScalarAsync(timeout.Token).ConfigureAwait(false);
            return new ReadinessCheck("database", true, database.Description);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // The message names the failure (refused, timed out, locked); the connection string's password never appears in it.
            return new ReadinessCheck("database", false, $"{database.Description}: {(ex is OperationCanceledException ? $"no answer within {DatabaseTimeout.TotalSeconds:0} s" : ex.Message)}");
        }
    }
}
