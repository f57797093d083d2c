using System.Text.Json;
using Castor.Application.Batches;
using Castor.Application.Errors;
using Castor.Application.Files;
using Castor.Storage.Batches;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Castor.Api.OpenAI.Apis;

/// <summary>
/// OpenAI's <c>files</c> (for batch input and output) and <c>batches</c> calls, on the same files and batch jobs as the
/// native API: a job created here is listed by <c>GET /v1beta/batches</c> too, and its output file is a Files API file.
/// Ids are the native names (<c>files/…</c>, <c>batches/…</c>), which the SDK percent-encodes in paths.
/// </summary>
internal static class BatchesApi
{
    private const string Purpose = "batch";

    /// <summary><c>POST files</c> (multipart: <c>file</c>, <c>purpose</c>): the bytes become a Files API file.</summary>
    public static async Task UploadFileAsync(HttpContext context, IFileService files)
    {
        if (!context.Request.HasFormContentType)
            throw CastorException.InvalidArgument("files.create takes multipart/form-data with a file and a purpose.");
        var form = await context.Request.ReadFormAsync(context.RequestAborted).ConfigureAwait(false);
        var purpose = form["purpose"].ToString();
        if (purpose != Purpose)
            throw CastorException.InvalidField("purpose", $"'{purpose}' is not supported; this server takes files with purpose \"batch\".");
        var file = form.Files.GetFile("file") ?? throw CastorException.InvalidField("file", "file is required.");
        await using var content = file.OpenReadStream();
        var stored = await files.UploadAsync(context.Caller(), new NewFile(null, file.FileName, "application/jsonl", file.Length), content, context.RequestAborted)
            .ConfigureAwait(false);
        await WriteAsync(context, w => WriteFile(w, stored)).ConfigureAwait(false);
    }

    /// <summary><c>GET files/{id}</c> (metadata) and <c>GET files/{id}/content</c> (the bytes).</summary>
    public static async Task GetFileAsync(HttpContext context, string rest, IFileService files)
    {
        var path = Uri.UnescapeDataString(rest);
        var content = path.EndsWith("/content", StringComparison.Ordinal);
        var name = FileName(content ? path[..^"/content".Length] : path);
        if (!content)
        {
            var file = await files.GetAsync(context.Caller(), name, context.RequestAborted).ConfigureAwait(false);
            await WriteAsync(context, w => WriteFile(w, file)).ConfigureAwait(false);
            return;
        }
        var (stored, bytes) = await files.OpenAsync(context.Caller(), name, context.RequestAborted).ConfigureAwait(false);
        await using (bytes.ConfigureAwait(false))
        {
            context.Response.ContentType = "application/octet-stream";
            context.Response.ContentLength = stored.SizeBytes;
            context.Response.Headers.XContentTypeOptions = "nosniff";
            await bytes.CopyToAsync(context.Response.Body, context.RequestAborted).ConfigureAwait(false);
        }
    }

    /// <summary><c>POST batches</c>: <c>{input_file_id, endpoint, completion_window}</c>.</summary>
    public static async Task CreateAsync(HttpContext context, BatchService batches)
    {
        var dialect = context.RequestServices.GetRequiredService<OpenAIBatchDialect>();
        using var body = await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted).ConfigureAwait(false);
        var root = body.RootElement;
        var input = root.TryGetProperty("input_file_id", out var f) && f.ValueKind == JsonValueKind.String ? f.GetString()!
            : throw CastorException.InvalidField("input_file_id", "input_file_id is required.");
        var endpoint = root.TryGetProperty("endpoint", out var e) && e.ValueKind == JsonValueKind.String ? e.GetString() : null;
        if (endpoint != OpenAIBatchDialect.ChatCompletionsUrl)
            throw CastorException.InvalidField("endpoint", $"'{endpoint}' is not supported for batches here; use {OpenAIBatchDialect.ChatCompletionsUrl}.");
        var job = await batches.CreateAsync(context.Caller(), new NewBatch(BatchKind.GenerateContent, dialect, "", null, null, FileName(input)),
            context.RequestAborted).ConfigureAwait(false);
        await WriteAsync(context, w => WriteBatch(w, job)).ConfigureAwait(false);
    }

    /// <summary><c>GET batches/{id}</c>.</summary>
    public static async Task GetAsync(HttpContext context, string id, BatchService batches)
    {
        var job = await batches.GetAsync(context.Caller(), Uri.UnescapeDataString(id), context.RequestAborted).ConfigureAwait(false);
        await WriteAsync(context, w => WriteBatch(w, job)).ConfigureAwait(false);
    }

    /// <summary><c>POST batches/{id}/cancel</c>.</summary>
    public static async Task CancelAsync(HttpContext context, string rest, BatchService batches)
    {
        var path = Uri.UnescapeDataString(rest);
        if (!path.EndsWith("/cancel", StringComparison.Ordinal))
            throw CastorException.NotFound($"POST batches/{path} is not a method; use batches/{{id}}/cancel.");
        var job = await batches.CancelAsync(context.Caller(), path[..^"/cancel".Length], context.RequestAborted).ConfigureAwait(false);
        await WriteAsync(context, w => WriteBatch(w, job)).ConfigureAwait(false);
    }

    private static string FileName(string id) => id.StartsWith(FileService.NamePrefix, StringComparison.Ordinal) ? id : FileService.NamePrefix + id;

    private static void WriteFile(Utf8JsonWriter w, FileMetadata file)
    {
        w.WriteStartObject();
        w.WriteString("id", FileService.NamePrefix + file.Id);
        w.WriteString("object", "file");
        w.WriteNumber("bytes", file.SizeBytes);
        w.WriteNumber("created_at", file.CreateTime.ToUnixTimeSeconds());
        w.WriteString("filename", file.DisplayName ?? file.Id);
        w.WriteString("purpose", Purpose);
        w.WriteString("status", "processed");
        w.WriteEndObject();
    }

    private static void WriteBatch(Utf8JsonWriter w, BatchJob job)
    {
        var b = job.Batch;
        w.WriteStartObject();
        w.WriteString("id", job.Name);
        w.WriteString("object", "batch");
        w.WriteString("endpoint", OpenAIBatchDialect.ChatCompletionsUrl);
        w.WriteNull("errors");
        if (b.InputFile is null) w.WriteNull("input_file_id"); else w.WriteString("input_file_id", b.InputFile);
        w.WriteString("completion_window", "24h");
        w.WriteString("status", Status(job));
        if (b.OutputFile is null) w.WriteNull("output_file_id"); else w.WriteString("output_file_id", b.OutputFile);
        // Failed requests' lines are in the output file with their status code, so there is no separate error file.
        w.WriteNull("error_file_id");
        w.WriteNumber("created_at", b.CreateTime.ToUnixTimeSeconds());
        w.WriteNumber("expires_at", b.ExpireTime.ToUnixTimeSeconds());
        if (b.EndTime is { } end)
        {
            var field = b.State switch
            {
                BatchState.Cancelled => "cancelled_at",
                BatchState.Expired => "expired_at",
                BatchState.Failed => "failed_at",
                _ => "completed_at",
            };
            w.WriteNumber(field, end.ToUnixTimeSeconds());
        }
        w.WriteStartObject("request_counts");
        w.WriteNumber("total", b.RequestCount);
        w.WriteNumber("completed", job.Counts.Succeeded);
        w.WriteNumber("failed", job.Counts.Failed);
        w.WriteEndObject();
        w.WriteNull("metadata");
        w.WriteEndObject();
    }

    /// <summary>OpenAI's batch statuses; a cancelled job is <c>cancelling</c> until its output is final.</summary>
    private static string Status(BatchJob job) => job.Batch.State switch
    {
        BatchState.Pending => "validating",
        BatchState.Running => job.Done ? "completed" : "in_progress",
        BatchState.Succeeded => job.Done ? "completed" : "finalizing",
        BatchState.Failed => "failed",
        BatchState.Cancelled => job.Done ? "cancelled" : "cancelling",
        _ => "expired",
    };

    private static async Task WriteAsync(HttpContext context, Action<Utf8JsonWriter> write)
    {
        context.Response.ContentType = "application/json; charset=UTF-8";
        await using var w = new Utf8JsonWriter(context.Response.BodyWriter,
            new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        write(w);
        await w.FlushAsync(context.RequestAborted).ConfigureAwait(false);
    }
}
