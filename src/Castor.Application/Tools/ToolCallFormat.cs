using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Castor.Application.Generation;
using Castor.Engine.Grammars;

namespace Castor.Application.Tools;

/// <summary>
/// How a model is told about functions and how it writes calls. Castor uses the Hermes/Qwen convention
/// (<c>&lt;tools&gt;</c> in the system prompt, calls as <c>&lt;tool_call&gt;{"name":…,"arguments":…}&lt;/tool_call&gt;</c>,
/// results as <c>&lt;tool_response&gt;</c>) for every model: Qwen 2.5/3, Hermes and many fine-tunes were trained on it,
/// and it is the documented generic format for models without a native one.
/// </summary>
public sealed class ToolCallFormat
{
    public const string Open = "<tool_call>";
    public const string Close = "</tool_call>";
    public const int MaxParallelCalls = 8;

    public static readonly ToolCallFormat Hermes = new();

    private static readonly JsonSerializerOptions Compact = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public string DeclarationsInstruction(IReadOnlyList<FunctionDeclaration> functions, FunctionCallingMode mode)
    {
        var sb = new StringBuilder("# Tools\n\nYou may call one or more functions to assist with the user query.\n\n")
            .Append("You are provided with function signatures within <tools></tools> XML tags:\n<tools>\n");
        foreach (var f in functions)
        {
            var function = new JsonObject { ["name"] = f.Name };
            if (f.Description is not null) function["description"] = f.Description;
            function["parameters"] = f.Parameters?.DeepClone() ?? new JsonObject { ["type"] = "object", ["properties"] = new JsonObject() };
            sb.Append(new JsonObject { ["type"] = "function", ["function"] = function }.ToJsonString(Compact)).Append('\n');
        }
        sb.Append("</tools>\n\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\n")
          .Append("<tool_call>\n{\"name\": <function-name>, \"arguments\": <args-json-object>}\n</tool_call>");
        if (mode == FunctionCallingMode.Any) sb.Append("\n\nYou must call at least one function.");
        return sb.ToString();
    }

    public string RenderCall(FunctionCallPart call) =>
        $"{Open}\n{new JsonObject { ["name"] = call.Name, ["arguments"] = call.Args is { } a ? JsonNode.Parse(a.GetRawText()) : new JsonObject() }.ToJsonString(Compact)}\n{Close}";

    public string RenderResponse(FunctionResponsePart response) =>
        $"<tool_response>\n{new JsonObject { ["name"] = response.Name, ["response"] = response.Response is { } r ? JsonNode.Parse(r.GetRawText()) : null }.ToJsonString(Compact)}\n</tool_response>";

    /// <summary>
    /// The grammar of one or more calls to <paramref name="functions"/> with schema-valid arguments. Lazy grammars hold
    /// from the first <c>&lt;tool_call&gt;</c> the model writes on (AUTO); strict ones from the first token (ANY).
    /// </summary>
    public GrammarConstraint Grammar(IReadOnlyList<FunctionDeclaration> functions, bool lazy)
    {
        var schemas = functions.Select((f, i) => (Schema: f.Parameters ?? new JsonObject { ["type"] = "object", ["properties"] = new JsonObject(), ["additionalProperties"] = false }, Prefix: $"fn{i}")).ToList();
        var ws = JsonSchemaGrammar.WhitespaceRule;
        var gbnf = JsonSchemaGrammar.CompileMany(schemas, args =>
        {
            var alternatives = functions.Select((f, i) =>
                $"{JsonSchemaGrammar.Literal(f.Name)} {ws} \",\" {ws} \"\\\"arguments\\\"\" {ws} \":\" {ws} {args[i]}");
            var call = $"\"{Open}\" \"\\n\"? \"{{\" {ws} \"\\\"name\\\"\" {ws} \":\" {ws} ({string.Join(" | ", alternatives)}) {ws} \"}}\" \"\\n\"? \"{Close}\"";
            return $"({call}) (\"\\n\"? ({call})){{0,{MaxParallelCalls - 1}}}";
        });
        return new GrammarConstraint(gbnf, "root", lazy ? [$"[\\s\\S]*?({Open})[\\s\\S]*"] : null);
    }

    /// <summary>Splits streamed text into plain text and completed calls.</summary>
    public ToolCallSplitter CreateSplitter() => new();

    internal static string NewCallId() => "call_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
}

/// <summary>
/// Separates function calls from text as it streams: text is released at once except what could be the start of
/// <c>&lt;tool_call&gt;</c>; a call is released when its closing tag arrives and its JSON parses.
/// </summary>
public sealed class ToolCallSplitter
{
    private readonly StringBuilder _buffer = new();
    private bool _inside;
    private bool _afterCall;

    /// <summary>True when the text ended inside a call (cut off by the token limit) or a call did not parse.</summary>
    public bool Malformed { get; private set; }

    public (string Text, List<FunctionCallPart> Calls) Push(string delta)
    {
        _buffer.Append(delta);
        var text = new StringBuilder();
        var calls = new List<FunctionCallPart>();
        while (true)
        {
            var current = _buffer.ToString();
            if (!_inside)
            {
                var open = current.IndexOf(ToolCallFormat.Open, StringComparison.Ordinal);
                if (open < 0)
                {
                    var hold = HeldBack(current);
                    AppendText(text, current[..(current.Length - hold)]);
                    _buffer.Clear().Append(current[(current.Length - hold)..]);
                    break;
                }
                AppendText(text, current[..open].TrimEnd());
                _buffer.Clear().Append(current[(open + ToolCallFormat.Open.Length)..]);
                _inside = true;
            }
            else
            {
                var close = current.IndexOf(ToolCallFormat.Close, StringComparison.Ordinal);
                if (close < 0) break;
                var body = current[..close];
                _buffer.Clear().Append(current[(close + ToolCallFormat.Close.Length)..]);
                _inside = false;
                _afterCall = true;
                if (Parse(body) is { } call) calls.Add(call);
                else
                {
                    Malformed = true;
                    AppendText(text, ToolCallFormat.Open + body + ToolCallFormat.Close);
                }
            }
        }
        return (text.ToString(), calls);
    }

    /// <summary>Whatever is left at the end of generation.</summary>
    public string Flush()
    {
        var rest = _buffer.ToString();
        _buffer.Clear();
        if (_inside)
        {
            Malformed = true;
            return ToolCallFormat.Open + rest;
        }
        return _afterCall ? rest.TrimStart() : rest;
    }

    private void AppendText(StringBuilder text, string piece)
    {
        if (_afterCall)
        {
            piece = piece.TrimStart();
            if (piece.Length == 0) return;
            _afterCall = false;
        }
        text.Append(piece);
    }

    private static int HeldBack(string text)
    {
        for (var len = Math.Min(ToolCallFormat.Open.Length - 1, text.Length); len > 0; len--)
            if (ToolCallFormat.Open.StartsWith(text[^len..], StringComparison.Ordinal)) return len;
        return 0;
    }

    internal static FunctionCallPart? Parse(string body)
    {
        try
        {
            if (JsonNode.Parse(body.Trim()) is not JsonObject o || o["name"] is not JsonValue nameValue || !nameValue.TryGetValue<string>(out var name))
                return null;
            var args = o["arguments"] ?? o["parameters"] ?? new JsonObject();
            if (args is JsonValue v && v.TryGetValue<string>(out var encoded)) args = JsonNode.Parse(encoded);
            using var doc = JsonDocument.Parse(args?.ToJsonString() ?? "{}");
            return new FunctionCallPart(name, doc.RootElement.Clone(), ToolCallFormat.NewCallId());
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
