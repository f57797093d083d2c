using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Castor.Application.Generation;
using Castor.Engine.Grammars;

namespace Castor.Application.Tools;

/// <summary>
/// How a model is told about functions, how it writes calls and how results are shown to it: each format is the one
/// a model family was trained on. <see cref="For"/> picks it from the GGUF chat template; models without a native
/// format get <see cref="Hermes"/>, the documented generic format (Qwen 2.5/3, Hermes and many fine-tunes use it).
/// </summary>
public abstract class ToolCallFormat
{
    public const int MaxParallelCalls = 8;

    /// <summary><c>&lt;tool_call&gt;{"name":…,"arguments":…}&lt;/tool_call&gt;</c>, one block per call; results in <c>&lt;tool_response&gt;</c>.</summary>
    public static readonly ToolCallFormat Hermes = new HermesFormat();

    /// <summary><c>[TOOL_CALLS][{"name":…,"arguments":…}, …]</c>; declarations in <c>[AVAILABLE_TOOLS]</c>, results in <c>[TOOL_RESULTS]</c>.</summary>
    public static readonly ToolCallFormat Mistral = new MistralFormat();

    /// <summary>Llama 3.1+ JSON calling: the reply is <c>{"name":…,"parameters":…}</c>.</summary>
    public static readonly ToolCallFormat Llama3 = new Llama3Format();

    protected static readonly JsonSerializerOptions Compact = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public abstract string Name { get; }

    /// <summary>Detects the format from the model's chat template source (empty when unknown).</summary>
    public static ToolCallFormat For(string? chatTemplate)
    {
        var template = chatTemplate ?? "";
        if (template.Contains("<tool_call>", StringComparison.Ordinal)) return Hermes;
        if (template.Contains("[TOOL_CALLS]", StringComparison.Ordinal)) return Mistral;
        if (template.Contains("<|python_tag|>", StringComparison.Ordinal) || template.Contains("ipython", StringComparison.Ordinal)) return Llama3;
        return Hermes;
    }

    public abstract string DeclarationsInstruction(IReadOnlyList<FunctionDeclaration> functions, FunctionCallingMode mode);

    public abstract string RenderCall(FunctionCallPart call);

    public abstract string RenderResponse(FunctionResponsePart response);

    /// <summary>
    /// The grammar of calls to <paramref name="functions"/> with schema-valid arguments. Lazy grammars hold from the
    /// moment the model starts a call (AUTO); strict ones from the first token (ANY).
    /// </summary>
    /// <param name="maxCalls">How many calls one turn may hold (1 when the client turned parallel calls off).</param>
    /// <param name="cancellationToken">Stops compiling the parameter schemas when the caller goes away.</param>
    public abstract GrammarConstraint Grammar(IReadOnlyList<FunctionDeclaration> functions, bool lazy, int maxCalls = MaxParallelCalls, CancellationToken cancellationToken = default);

    public abstract ToolCallSplitter CreateSplitter();

    protected static JsonObject FunctionJson(FunctionDeclaration f)
    {
        var function = new JsonObject { ["name"] = f.Name };
        if (f.Description is not null) function["description"] = f.Description;
        function["parameters"] = f.Parameters?.DeepClone() ?? new JsonObject { ["type"] = "object", ["properties"] = new JsonObject() };
        return function;
    }

    protected static JsonNode Args(FunctionCallPart call) => call.Args is { } a ? JsonNode.Parse(a.GetRawText())! : new JsonObject();

    protected static JsonNode? Response(FunctionResponsePart response) => response.Response is { } r ? JsonNode.Parse(r.GetRawText()) : null;

    /// <summary>One call object: <c>{"name": "f", "&lt;argumentsKey&gt;": {…}}</c> for any of the functions.</summary>
    /// <param name="compactOpening">Write <c>{"name"</c> with no space inside, for formats whose parser (and lazy trigger) look for exactly that.</param>
    protected static string CompileCalls(IReadOnlyList<FunctionDeclaration> functions, string argumentsKey, Func<string, string> root, bool compactOpening = false,
        CancellationToken cancellationToken = default)
    {
        var schemas = functions.Select((f, i) => (Schema: f.Parameters ?? new JsonObject { ["type"] = "object", ["properties"] = new JsonObject(), ["additionalProperties"] = false }, Prefix: $"fn{i}")).ToList();
        var ws = JsonSchemaGrammar.WhitespaceRule;
        return JsonSchemaGrammar.CompileMany(schemas, args =>
        {
            var alternatives = functions.Select((f, i) =>
                $"{JsonSchemaGrammar.Literal(f.Name)} {ws} \",\" {ws} {JsonSchemaGrammar.Literal(argumentsKey)} {ws} \":\" {ws} {args[i]}");
            var opening = compactOpening ? "\"{\\\"name\\\"\"" : $"\"{{\" {ws} \"\\\"name\\\"\"";
            var call = $"{opening} {ws} \":\" {ws} ({string.Join(" | ", alternatives)}) {ws} \"}}\"";
            return root(call);
        }, cancellationToken: cancellationToken);
    }

    internal static string NewCallId() => "call_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));

    /// <summary>Reads <c>{"name": …, "arguments"|"parameters": …}</c>; null when it is not a call.</summary>
    internal static FunctionCallPart? ParseCall(JsonNode? node)
    {
        if (node is not JsonObject o || o["name"] is not JsonValue nameValue || !nameValue.TryGetValue<string>(out var name)) return null;
        var args = o["arguments"] ?? o["parameters"] ?? new JsonObject();
        if (args is JsonValue v && v.TryGetValue<string>(out var encoded)) args = JsonNode.Parse(encoded);
        using var doc = JsonDocument.Parse(args?.ToJsonString() ?? "{}");
        return new FunctionCallPart(name, doc.RootElement.Clone(), NewCallId());
    }

    private sealed class HermesFormat : ToolCallFormat
    {
        private const string Open = "<tool_call>";
        private const string Close = "</tool_call>";

        public override string Name => "hermes";

        public override string DeclarationsInstruction(IReadOnlyList<FunctionDeclaration> functions, FunctionCallingMode mode)
        {
            var sb = new StringBuilder("# Tools\n\nYou may call one or more functions to assist with the user query.\n\n")
                .Append("You are provided with function signatures within <tools></tools> XML tags:\n<tools>\n");
            foreach (var f in functions)
                sb.Append(new JsonObject { ["type"] = "function", ["function"] = FunctionJson(f) }.ToJsonString(Compact)).Append('\n');
            sb.Append("</tools>\n\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\n")
              .Append("<tool_call>\n{\"name\": <function-name>, \"arguments\": <args-json-object>}\n</tool_call>");
            if (mode == FunctionCallingMode.Any) sb.Append("\n\nYou must call at least one function.");
            return sb.ToString();
        }

        public override string RenderCall(FunctionCallPart call) =>
            $"{Open}\n{new JsonObject { ["name"] = call.Name, ["arguments"] = Args(call) }.ToJsonString(Compact)}\n{Close}";

        public override string RenderResponse(FunctionResponsePart response) =>
            $"<tool_response>\n{new JsonObject { ["name"] = response.Name, ["response"] = Response(response) }.ToJsonString(Compact)}\n</tool_response>";

        public override GrammarConstraint Grammar(IReadOnlyList<FunctionDeclaration> functions, bool lazy, int maxCalls = MaxParallelCalls, CancellationToken cancellationToken = default)
        {
            var gbnf = CompileCalls(functions, "arguments", call =>
            {
                var block = $"\"{Open}\" \"\\n\"? {call} \"\\n\"? \"{Close}\"";
                return maxCalls > 1 ? $"({block}) (\"\\n\"? ({block})){{0,{maxCalls - 1}}}" : $"({block})";
            }, cancellationToken: cancellationToken);
            return new GrammarConstraint(gbnf, "root", lazy ? [$"[\\s\\S]*?({Open})[\\s\\S]*"] : null);
        }

        public override ToolCallSplitter CreateSplitter() => new(Open, Close, keepOpen: false, body =>
        {
            try { return ParseCall(JsonNode.Parse(body.Trim())) is { } call ? [call] : null; }
            catch (JsonException) { return null; }
        });
    }

    private sealed class MistralFormat : ToolCallFormat
    {
        private const string Open = "[TOOL_CALLS]";

        public override string Name => "mistral";

        public override string DeclarationsInstruction(IReadOnlyList<FunctionDeclaration> functions, FunctionCallingMode mode)
        {
            var tools = new JsonArray(functions.Select(f => (JsonNode)new JsonObject { ["type"] = "function", ["function"] = FunctionJson(f) }).ToArray());
            var text = $"[AVAILABLE_TOOLS]{tools.ToJsonString(Compact)}[/AVAILABLE_TOOLS]";
            return mode == FunctionCallingMode.Any ? text + "\nYou must call at least one function." : text;
        }

        public override string RenderCall(FunctionCallPart call) =>
            $"{Open}{new JsonArray(new JsonObject { ["name"] = call.Name, ["arguments"] = Args(call) }).ToJsonString(Compact)}";

        public override string RenderResponse(FunctionResponsePart response) =>
            $"[TOOL_RESULTS]{new JsonObject { ["name"] = response.Name, ["content"] = Response(response) }.ToJsonString(Compact)}[/TOOL_RESULTS]";

        public override GrammarConstraint Grammar(IReadOnlyList<FunctionDeclaration> functions, bool lazy, int maxCalls = MaxParallelCalls, CancellationToken cancellationToken = default)
        {
            var ws = JsonSchemaGrammar.WhitespaceRule;
            var gbnf = CompileCalls(functions, "arguments", call =>
                $"\"{Open}\" {ws} \"[\" {ws} {call}{(maxCalls > 1 ? $" (\",\" {ws} {call}){{0,{maxCalls - 1}}}" : "")} {ws} \"]\"", cancellationToken: cancellationToken);
            return new GrammarConstraint(gbnf, "root", lazy ? ["[\\s\\S]*?(\\[TOOL_CALLS\\])[\\s\\S]*"] : null);
        }

        public override ToolCallSplitter CreateSplitter() => new(Open, close: null, keepOpen: false, body =>
        {
            try
            {
                if (JsonNode.Parse(body.Trim()) is not JsonArray array) return null;
                var calls = array.Select(ParseCall).ToList();
                return calls.Any(c => c is null) ? null : calls.Select(c => c!).ToList();
            }
            catch (JsonException) { return null; }
        });
    }

    private sealed class Llama3Format : ToolCallFormat
    {
        private const string PythonTag = "<|python_tag|>";

        public override string Name => "llama3-json";

        public override string DeclarationsInstruction(IReadOnlyList<FunctionDeclaration> functions, FunctionCallingMode mode)
        {
            var sb = new StringBuilder("You have access to the following functions. To call a function, respond with a JSON for a function call with its proper arguments ")
                .Append("in the format {\"name\": function name, \"parameters\": dictionary of argument name and its value}. Do not use variables.\n\n");
            foreach (var f in functions)
                sb.Append(new JsonObject { ["type"] = "function", ["function"] = FunctionJson(f) }.ToJsonString(Compact)).Append("\n\n");
            if (mode == FunctionCallingMode.Any) sb.Append("You must call a function.");
            return sb.ToString().TrimEnd();
        }

        public override string RenderCall(FunctionCallPart call) =>
            new JsonObject { ["name"] = call.Name, ["parameters"] = Args(call) }.ToJsonString(Compact);

        public override string RenderResponse(FunctionResponsePart response) =>
            new JsonObject { ["name"] = response.Name, ["output"] = Response(response) }.ToJsonString(Compact);

        public override GrammarConstraint Grammar(IReadOnlyList<FunctionDeclaration> functions, bool lazy, int maxCalls = MaxParallelCalls, CancellationToken cancellationToken = default)
        {
            var gbnf = CompileCalls(functions, "parameters", call => $"(\"{PythonTag}\")? {call}", compactOpening: true, cancellationToken: cancellationToken);
            // The reply is the call itself, so the trigger is its opening: {"name" (or the python tag).
            return new GrammarConstraint(gbnf, "root", lazy ? ["[\\s\\S]*?(<\\|python_tag\\|>|\\{\"name\")[\\s\\S]*"] : null);
        }

        public override ToolCallSplitter CreateSplitter() => new("{\"name\"", close: null, keepOpen: true, body =>
        {
            try { return ParseCall(JsonNode.Parse(body.Trim())) is { } call ? [call] : null; }
            catch (JsonException) { return null; }
        }, alternateOpen: PythonTag);
    }
}

/// <summary>
/// Separates function calls from text as it streams: text is released at once except what could be the start of a
/// call; a call is released when it is complete (its closing marker, or the end of output for formats without one).
/// </summary>
public sealed class ToolCallSplitter(string open, string? close, bool keepOpen, Func<string, List<FunctionCallPart>?> parse, string? alternateOpen = null)
{
    private readonly StringBuilder _buffer = new();
    private bool _inside;
    private bool _afterCall;

    /// <summary>True when the text ended inside a call (cut off by the token limit) or a call did not parse.</summary>
    public bool Malformed { get; private set; }

    /// <summary>Adds generated text; returns the text and completed calls it releases, in order.</summary>
    public List<Part> Push(string delta)
    {
        _buffer.Append(delta);
        var parts = new List<Part>();
        while (true)
        {
            var current = _buffer.ToString();
            if (!_inside)
            {
                var at = current.IndexOf(open, StringComparison.Ordinal);
                var marker = open;
                var keep = keepOpen;
                // A second way to open a call (Llama's <|python_tag|>), which is not part of the call's text.
                if (alternateOpen is not null && current.IndexOf(alternateOpen, StringComparison.Ordinal) is var alt && alt >= 0 && (at < 0 || alt < at))
                    (at, marker, keep) = (alt, alternateOpen, false);
                if (at < 0)
                {
                    var hold = HeldBack(current);
                    AppendText(parts, current[..(current.Length - hold)]);
                    _buffer.Clear().Append(current[(current.Length - hold)..]);
                    break;
                }
                AppendText(parts, current[..at].TrimEnd());
                _buffer.Clear().Append(current[(keep ? at : at + marker.Length)..]);
                _inside = true;
            }
            else
            {
                if (close is null) break;
                var end = current.IndexOf(close, StringComparison.Ordinal);
                if (end < 0) break;
                var body = current[..end];
                _buffer.Clear().Append(current[(end + close.Length)..]);
                _inside = false;
                Complete(body, close, parts, cutOff: false);
            }
        }
        return parts;
    }

    /// <summary>
    /// Whatever is left at the end of generation: trailing text, or the call of a format without a closing marker.
    /// A call left unfinished because the token limit cut it (<paramref name="cutOff"/>) is dropped; otherwise an
    /// unfinished or unreadable call is returned as text and marks the output <see cref="Malformed"/>.
    /// </summary>
    public List<Part> Finish(bool cutOff = false)
    {
        var parts = Push("");
        var rest = _buffer.ToString();
        _buffer.Clear();
        if (_inside)
        {
            _inside = false;
            if (close is null) Complete(rest, "", parts, cutOff);
            else if (!cutOff)
            {
                Malformed = true;
                parts.Add(new TextPart(open + rest));
            }
        }
        // The limit cut the output inside a call's opening marker: that is the start of a dropped call, not text.
        else if (!(cutOff && rest.Length > 0 && HeldBack(rest) == rest.Length)) AppendText(parts, rest);
        return parts;
    }

    /// <summary>The text of a list of parts (tests and simple callers).</summary>
    public static string TextOf(IEnumerable<Part> parts) => string.Concat(parts.OfType<TextPart>().Select(p => p.Text));

    private void Complete(string body, string closing, List<Part> parts, bool cutOff)
    {
        _afterCall = true;
        if (parse(body) is { } parsed) parts.AddRange(parsed);
        else if (!cutOff)
        {
            Malformed = true;
            parts.Add(new TextPart((keepOpen ? body : open + body) + closing));
        }
    }

    private void AppendText(List<Part> parts, string piece)
    {
        if (_afterCall)
        {
            piece = piece.TrimStart();
            if (piece.Length == 0) return;
            _afterCall = false;
        }
        if (piece.Length > 0) parts.Add(new TextPart(piece));
    }

    private int HeldBack(string text) => Math.Max(HeldBack(text, open), alternateOpen is null ? 0 : HeldBack(text, alternateOpen));

    private static int HeldBack(string text, string marker)
    {
        for (var len = Math.Min(marker.Length - 1, text.Length); len > 0; len--)
            if (marker.StartsWith(text[^len..], StringComparison.Ordinal)) return len;
        return 0;
    }
}
