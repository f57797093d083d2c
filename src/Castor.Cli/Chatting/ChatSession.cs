using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Castor.Cli.Chatting;

/// <summary>
/// A terminal conversation with a running Castor through its own Gemini API (<c>streamGenerateContent?alt=sse</c>):
/// the answer is written as it streams, the history is sent with every turn, and commands change the conversation
/// (<c>/system</c>, <c>/reset</c>, <c>/image</c>, <c>/exit</c>). <see cref="StopAnswer"/> (Ctrl+C) ends the answer being
/// streamed, not the conversation.
/// </summary>
internal sealed class ChatSession(HttpClient http, string model, TextReader input, TextWriter output)
{
    private readonly JsonArray _contents = [];
    private readonly List<JsonObject> _pendingImages = [];
    private string? _system;
    private CancellationTokenSource? _answer;

    /// <summary>generationConfig.maxOutputTokens for every answer; null: the model's default.</summary>
    public int? MaxOutputTokens { get; init; }

    /// <summary>The requests sent, for tests; each is the JSON body.</summary>
    public List<string> Sent { get; } = [];

    /// <summary>Stops the answer being streamed; false when none is (Ctrl+C at the prompt then ends the program).</summary>
    public bool StopAnswer()
    {
        var answer = Volatile.Read(ref _answer);
        if (answer is null) return false;
        answer.Cancel();
        return true;
    }

    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        output.WriteLine($"Chatting with {model} at {http.BaseAddress}. /system TEXT sets the instructions, /image PATH attaches an image, /reset starts over, /exit ends; Ctrl+C stops an answer.");
        while (!cancellationToken.IsCancellationRequested)
        {
            output.Write("> ");
            output.Flush();
            var line = await input.ReadLineAsync(cancellationToken);
            if (line is null) break;
            line = line.Trim();
            if (line.Length == 0) continue;
            if (line is "/exit" or "/quit" or "/bye") break;
            if (line == "/reset")
            {
                _contents.Clear();
                _pendingImages.Clear();
                output.WriteLine("(conversation cleared)");
                continue;
            }
            if (line == "/system" || line.StartsWith("/system ", StringComparison.Ordinal))
            {
                _system = line.Length > "/system".Length ? line["/system ".Length..].Trim() : null;
                output.WriteLine(_system is null ? "(system instruction cleared)" : "(system instruction set)");
                continue;
            }
            if (line.StartsWith("/image ", StringComparison.Ordinal))
            {
                AttachImage(line["/image ".Length..].Trim().Trim('"'));
                continue;
            }
            if (line.StartsWith('/'))
            {
                output.WriteLine("Commands: /system TEXT, /image PATH, /reset, /exit.");
                continue;
            }
            await TurnAsync(line, cancellationToken);
        }
        return 0;
    }

    private void AttachImage(string path)
    {
        string? mime = Path.GetExtension(path).ToLowerInvariant() switch
        {
            ".png" => "image/png",
            ".jpg" or ".jpeg" => "image/jpeg",
            ".webp" => "image/webp",
            ".heic" => "image/heic",
            ".heif" => "image/heif",
            _ => null,
        };
        if (mime is null)
        {
            output.WriteLine("(only .png, .jpg, .webp, .heic and .heif images can be attached)");
            return;
        }
        if (!File.Exists(path))
        {
            output.WriteLine($"(no file {path})");
            return;
        }
        _pendingImages.Add(new JsonObject { ["inlineData"] = new JsonObject { ["mimeType"] = mime, ["data"] = Convert.ToBase64String(File.ReadAllBytes(path)) } });
        output.WriteLine($"(attached {Path.GetFileName(path)} to your next message)");
    }

    private async Task TurnAsync(string text, CancellationToken cancellationToken)
    {
        var parts = new JsonArray();
        foreach (var image in _pendingImages) parts.Add(image);
        _pendingImages.Clear();
        parts.Add(new JsonObject { ["text"] = text });
        _contents.Add(new JsonObject { ["role"] = "user", ["parts"] = parts });

        var request = new JsonObject { ["contents"] = _contents.DeepClone() };
        if (MaxOutputTokens is { } max) request["generationConfig"] = new JsonObject { ["maxOutputTokens"] = max };
        if (_system is not null) request["systemInstruction"] = new JsonObject { ["parts"] = new JsonArray(new JsonObject { ["text"] = _system }) };
        var body = request.ToJsonString();
        Sent.Add(body);

        using var answer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Volatile.Write(ref _answer, answer);
        var reply = new StringBuilder();
        try
        {
            using var message = new HttpRequestMessage(HttpMethod.Post, $"v1beta/models/{Uri.EscapeDataString(model)}:streamGenerateContent?alt=sse")
            {
                Content = new StringContent(body, Encoding.UTF8, "application/json"),
            };
            message.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
            using var response = await http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, answer.Token);
            if (!response.IsSuccessStatusCode)
            {
                output.WriteLine($"error: {ErrorMessage(await response.Content.ReadAsStringAsync(answer.Token), (int)response.StatusCode)}");
                _contents.RemoveAt(_contents.Count - 1);
                return;
            }
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(answer.Token));
            while (await reader.ReadLineAsync(answer.Token) is { } line)
            {
                if (!line.StartsWith("data:", StringComparison.Ordinal)) continue;
                var chunk = JsonNode.Parse(line["data:".Length..]);
                if (chunk?["error"] is { } error)
                {
                    output.WriteLine();
                    output.WriteLine($"error: {error["message"]}");
                    break;
                }
                foreach (var part in chunk?["candidates"]?[0]?["content"]?["parts"]?.AsArray() ?? [])
                {
                    if (part?["thought"]?.GetValue<bool>() == true || part?["text"] is not { } t) continue;
                    var delta = t.GetValue<string>();
                    reply.Append(delta);
                    output.Write(delta);
                    output.Flush();
                }
            }
            output.WriteLine();
        }
        catch (OperationCanceledException) when (answer.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            output.WriteLine(" [stopped]");
        }
        catch (HttpRequestException ex)
        {
            output.WriteLine($"error: cannot reach {http.BaseAddress} ({ex.Message}). Is castor serve running?");
            _contents.RemoveAt(_contents.Count - 1);
            return;
        }
        finally
        {
            Volatile.Write(ref _answer, null);
        }
        // What was said stays in the history, a stopped answer too, so the next turn follows the conversation as seen.
        _contents.Add(new JsonObject { ["role"] = "model", ["parts"] = new JsonArray(new JsonObject { ["text"] = reply.ToString() }) });
    }

    private static string ErrorMessage(string body, int status)
    {
        try
        {
            return JsonNode.Parse(body)?["error"]?["message"]?.GetValue<string>() ?? $"HTTP {status}";
        }
        catch (JsonException)
        {
            return $"HTTP {status}: {body}";
        }
    }
}
