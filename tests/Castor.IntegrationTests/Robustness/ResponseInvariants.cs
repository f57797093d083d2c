using System.Text.Json;

namespace Castor.IntegrationTests.Robustness;

/// <summary>
/// What every answer to every request must satisfy, however broken the request: it arrives; it is no 5xx
/// (a 503 UNAVAILABLE excepted); every 4xx is a Google RPC error in JSON, which is all an SDK can parse;
/// and a success carries well-formed JSON or SSE, without an INTERNAL error hidden in the stream.
/// </summary>
public static class ResponseInvariants
{
    /// <summary>The google.rpc.Code names.</summary>
    public static readonly IReadOnlySet<string> RpcStatusNames = new HashSet<string>(StringComparer.Ordinal)
    {
        "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED",
        "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE",
        "DATA_LOSS", "UNAUTHENTICATED",
    };

    /// <summary>Null when the response is acceptable; otherwise every problem found, separated by "; ".</summary>
    public static string? Check(FuzzRequest request, FuzzResponse response)
    {
        if (response.TransportFailure is { } failure) return failure;

        var problems = new List<string>();
        var status = response.Status;
        var openAI = IsOpenAIPath(request.Path);
        if (status >= 500)
        {
            if (status != 503 || (openAI ? OpenAICodeOf(response) != "overloaded" : RpcStatusOf(response) != "UNAVAILABLE"))
                problems.Add($"server error {status}");
        }
        else if (status >= 400)
        {
            if (!request.RejectedByHttpServer)
                CheckRpcError(response, problems, openAI);
        }
        else if (status is >= 200 and < 300)
        {
            if (request.ExpectClientError) problems.Add($"expected a 4xx error, got {status}");
            CheckSuccessBody(response, problems, openAI);
        }
        else
        {
            problems.Add($"unexpected status {status}");
        }

        if (request.ExpectedStatus is { } expected && status != expected)
            problems.Add($"expected status {expected}, got {status}");
        if (request.ExpectedRpcStatus is { } rpc && status is >= 400 and < 600 && RpcStatusOf(response) != rpc)
            problems.Add($"expected error.status {rpc}, got {RpcStatusOf(response) ?? "(none)"}");
        if (request.ExpectedReason is { } reason && !ReasonsOf(response).Contains(reason))
            problems.Add($"expected an ErrorInfo with reason {reason} in error.details");

        return problems.Count == 0 ? null : string.Join("; ", problems);
    }

    public static string Summarize(FuzzResponse response)
    {
        if (response.TransportFailure is not null) return "(no response)";
        var text = response.BodyText;
        if (text.Length > 500) text = text[..400] + $"…({text.Length} chars)";
        return $"{response.Status} [{response.ContentType ?? "no content-type"}] {text}";
    }

    /// <summary>The OpenAI-compatible routes answer in OpenAI's shapes.</summary>
    public static bool IsOpenAIPath(string path) =>
        path.StartsWith("/v1beta/openai/", StringComparison.OrdinalIgnoreCase) ||
        path.StartsWith("/v1beta/chat/completions", StringComparison.OrdinalIgnoreCase) ||
        path.StartsWith("/v1beta/embeddings", StringComparison.OrdinalIgnoreCase);

    private static void CheckRpcError(FuzzResponse response, List<string> problems, bool openAI)
    {
        if (response.ContentType is null || !response.ContentType.Contains("application/json", StringComparison.OrdinalIgnoreCase))
            problems.Add($"4xx with content-type '{response.ContentType ?? "(none)"}', not application/json");
        if (response.Body.Length == 0)
        {
            problems.Add($"{response.Status} with an empty body, not a Google RPC error");
            return;
        }
        try
        {
            using var doc = JsonDocument.Parse(response.Body);
            var problem = openAI ? OpenAIErrorProblem(doc.RootElement) : RpcErrorProblem(doc.RootElement, response.Status);
            if (problem is not null) problems.Add(problem);
        }
        catch (JsonException)
        {
            problems.Add($"{response.Status} whose body is not JSON");
        }
    }

    /// <summary>Checks <c>{"error":{"code","message","status"}}</c>; <paramref name="httpStatus"/> null for an in-band (streamed) error.</summary>
    private static string? RpcErrorProblem(JsonElement root, int? httpStatus)
    {
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("error", out var error) || error.ValueKind != JsonValueKind.Object)
            return "the body is not a Google RPC error ({\"error\":{…}})";
        if (!error.TryGetProperty("code", out var code) || code.ValueKind != JsonValueKind.Number || !code.TryGetInt32(out var codeValue))
            return "error.code is missing or not an integer";
        if (httpStatus is { } http && codeValue != http)
            return $"error.code {codeValue} differs from the HTTP status {http}";
        if (!error.TryGetProperty("status", out var rpc) || rpc.ValueKind != JsonValueKind.String || !RpcStatusNames.Contains(rpc.GetString()!))
            return "error.status is missing or not a google.rpc.Code name";
        if (!error.TryGetProperty("message", out var message) || message.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(message.GetString()))
            return "error.message is missing or empty";
        if (error.TryGetProperty("details", out var details) && details.ValueKind != JsonValueKind.Array)
            return "error.details is not an array";
        return null;
    }

    /// <summary>Checks <c>{"error":{"message","type","param","code"}}</c>, the shape the OpenAI SDKs parse.</summary>
    private static string? OpenAIErrorProblem(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("error", out var error) || error.ValueKind != JsonValueKind.Object)
            return "the body is not an OpenAI error ({\"error\":{…}})";
        if (!error.TryGetProperty("message", out var message) || message.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(message.GetString()))
            return "error.message is missing or empty";
        if (!error.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String)
            return "error.type is missing";
        if (!error.TryGetProperty("param", out var param) || param.ValueKind is not (JsonValueKind.String or JsonValueKind.Null))
            return "error.param is missing";
        if (!error.TryGetProperty("code", out var code) || code.ValueKind is not (JsonValueKind.String or JsonValueKind.Null))
            return "error.code is missing";
        if (error.TryGetProperty("status", out _))
            return "an OpenAI error with a Google RPC status";
        return null;
    }

    private static string? OpenAICodeOf(FuzzResponse response)
    {
        try
        {
            using var doc = JsonDocument.Parse(response.Body);
            return doc.RootElement.TryGetProperty("error", out var e) && e.ValueKind == JsonValueKind.Object &&
                   e.TryGetProperty("code", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static void CheckSuccessBody(FuzzResponse response, List<string> problems, bool openAI)
    {
        var contentType = response.ContentType ?? "";
        if (contentType.StartsWith("text/event-stream", StringComparison.OrdinalIgnoreCase))
        {
            var text = response.BodyText;
            if (text.Length == 0) problems.Add("an empty event stream");
            foreach (var frame in text.Split(["\r\n\r\n", "\n\n"], StringSplitOptions.RemoveEmptyEntries))
            {
                if (!frame.StartsWith("data: ", StringComparison.Ordinal))
                {
                    problems.Add("an SSE frame that does not start with 'data: '");
                    return;
                }
                if (openAI && frame == "data: [DONE]") continue;
                CheckStreamElement(frame["data: ".Length..], problems, openAI);
            }
            if (!text.EndsWith("\r\n\r\n", StringComparison.Ordinal) && !text.EndsWith("\n\n", StringComparison.Ordinal))
                problems.Add("the event stream ends inside an event");
        }
        else if (contentType.Contains("application/json", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                using var doc = JsonDocument.Parse(response.Body);
                if (doc.RootElement.ValueKind == JsonValueKind.Array)
                    foreach (var element in doc.RootElement.EnumerateArray())
                        CheckStreamElement(element.GetRawText(), problems, openAI);
                else if (doc.RootElement.ValueKind != JsonValueKind.Object)
                    problems.Add("a JSON success body that is neither an object nor an array");
            }
            catch (JsonException)
            {
                problems.Add("a success body that is not valid JSON");
            }
        }
    }

    /// <summary>One streamed chunk: a response, or an in-band error that must itself be well-formed and not INTERNAL.</summary>
    private static void CheckStreamElement(string json, List<string> problems, bool openAI)
    {
        try
        {
            using var doc = JsonDocument.Parse(json);
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                problems.Add("a streamed chunk that is not a JSON object");
                return;
            }
            if (!doc.RootElement.TryGetProperty("error", out var error)) return;
            if (openAI)
            {
                var openAIProblem = OpenAIErrorProblem(doc.RootElement);
                if (openAIProblem is not null) problems.Add("in-band error: " + openAIProblem);
                else if (error.GetProperty("type").GetString() == "server_error" && (error.GetProperty("code").ValueKind != JsonValueKind.String || error.GetProperty("code").GetString() != "overloaded"))
                    problems.Add("in-band server error in a 200 stream");
                return;
            }
            var problem = RpcErrorProblem(doc.RootElement, null);
            if (problem is not null)
            {
                problems.Add("in-band error: " + problem);
                return;
            }
            var code = error.GetProperty("code").GetInt32();
            var status = error.GetProperty("status").GetString();
            if (code >= 500 && !(code == 503 && status == "UNAVAILABLE"))
                problems.Add($"in-band server error {code} {status} in a 200 stream");
        }
        catch (JsonException)
        {
            problems.Add("a streamed chunk that is not valid JSON");
        }
    }

    public static string? RpcStatusOf(FuzzResponse response)
    {
        try
        {
            using var doc = JsonDocument.Parse(response.Body);
            return doc.RootElement.ValueKind == JsonValueKind.Object &&
                   doc.RootElement.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.Object &&
                   error.TryGetProperty("status", out var status) && status.ValueKind == JsonValueKind.String
                ? status.GetString()
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static HashSet<string> ReasonsOf(FuzzResponse response)
    {
        var reasons = new HashSet<string>(StringComparer.Ordinal);
        try
        {
            using var doc = JsonDocument.Parse(response.Body);
            if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("error", out var error) &&
                error.ValueKind == JsonValueKind.Object && error.TryGetProperty("details", out var details) && details.ValueKind == JsonValueKind.Array)
            {
                foreach (var detail in details.EnumerateArray())
                    if (detail.ValueKind == JsonValueKind.Object && detail.TryGetProperty("reason", out var reason) && reason.ValueKind == JsonValueKind.String)
                        reasons.Add(reason.GetString()!);
            }
        }
        catch (JsonException)
        {
        }
        return reasons;
    }

    /// <summary>A short count of outcomes, e.g. "200×312, 400×701, 403×40, 404×150".</summary>
    public static string Histogram(IEnumerable<FuzzResponse> responses) =>
        string.Join(", ", responses.GroupBy(r => r.TransportFailure is null ? r.Status.ToString() : "none")
            .OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Key}×{g.Count()}"));

}
