using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Castor.Engine.Grammars;

/// <summary>How object properties are ordered in generated JSON.</summary>
public enum PropertyOrder
{
    /// <summary>As declared in the schema (JSON Schema, and the order of <c>propertyOrdering</c>).</summary>
    Declared,
    /// <summary>Alphabetical, the Gemini API's default for <c>responseSchema</c> without <c>propertyOrdering</c>.</summary>
    Alphabetical,
}

/// <summary>
/// Compiles a JSON Schema (or the Gemini API's OpenAPI-subset Schema, whose upper-case type names and
/// <c>nullable</c>/<c>propertyOrdering</c> it also reads) into a llama.cpp GBNF grammar whose every sentence is a JSON
/// text that validates against the schema. Keywords it cannot enforce are refused with
/// <see cref="UnsupportedSchemaException"/> rather than ignored; pure annotations (title, description, examples, …)
/// and unknown string formats (an annotation in JSON Schema 2020-12) are ignored.
/// </summary>
public sealed partial class JsonSchemaGrammar
{
    private static readonly HashSet<string> Annotations = new(StringComparer.Ordinal)
    {
        "$schema", "$id", "$comment", "$anchor", "title", "description", "examples", "example", "default", "deprecated",
        "readOnly", "writeOnly", "contentMediaType", "contentEncoding", "$defs", "definitions", "propertyOrdering",
        "nullable", "type", "format", "enum", "const", "properties", "required", "additionalProperties", "items",
        "minItems", "maxItems", "minLength", "maxLength", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
        "anyOf", "oneOf", "allOf", "$ref", "discriminator", "unevaluatedProperties", "strict", "x-google-property-ordering",
        "pattern", "propertyNames", "prefixItems", "markdownDescription", "errorMessage",
    };

    private JsonNode _root;
    private string _refPrefix = "ref";
    private readonly PropertyOrder _order;
    private readonly Dictionary<string, string> _rules = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _refRules = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _ruleByBody = new(StringComparer.Ordinal);
    private readonly CancellationToken _cancellation;
    // The guards of SchemaLimits: how deep the visit is, how much work it did, and which references allOf is inlining.
    private int _depth;
    private int _work;
    private string _path = "";
    private readonly HashSet<string> _inlining = new(StringComparer.Ordinal);

    private JsonSchemaGrammar(JsonNode root, PropertyOrder order, CancellationToken cancellation = default)
    {
        _root = root;
        _order = order;
        _cancellation = cancellation;
    }

    /// <summary>Compiles <paramref name="schema"/> into GBNF with root rule <c>root</c>, within <see cref="SchemaLimits"/>.</summary>
    /// <param name="cancellationToken">Stops the compilation (the caller went away); checked at every schema visited.</param>
    public static string Compile(JsonNode schema, PropertyOrder order = PropertyOrder.Declared, CancellationToken cancellationToken = default)
    {
        var compiler = new JsonSchemaGrammar(schema, order, cancellationToken);
        return compiler.Guard(() =>
        {
            var root = compiler.Visit(schema, "", "root");
            if (root != "root") compiler._rules["root"] = root;
            compiler.CheckParsePaths(schema);
            return compiler.Checked(compiler.Render());
        });
    }

    /// <summary>
    /// A keyword of the wrong JSON type (<c>"type": 5</c>) is a malformed schema, not a crash; a schema that nests so
    /// deep that the thread's stack runs short (possible below <see cref="SchemaLimits.MaxDepth"/> only on a small
    /// stack) is refused, as a stack overflow would end the process.
    /// </summary>
    private T Guard<T>(Func<T> compile)
    {
        try
        {
            return compile();
        }
        catch (InsufficientExecutionStackException)
        {
            throw new UnsupportedSchemaException(_path, "the schema nests too deeply to compile here; nest fewer levels (properties, items, anyOf, $ref).");
        }
        catch (Exception ex) when (ex is InvalidOperationException or FormatException or InvalidCastException or ArgumentException)
        {
            throw new UnsupportedSchemaException("/", "the schema is malformed: " + ex.Message);
        }
    }

    /// <summary>One level deeper into the schema: the depth, work and stack guards, and the caller's cancellation.</summary>
    private void Enter(string path)
    {
        _cancellation.ThrowIfCancellationRequested();
        _path = path;
        if (++_depth > SchemaLimits.MaxDepth)
            throw new UnsupportedSchemaException(path,
                $"the schema nests more than {SchemaLimits.MaxDepth} levels deep (counting properties, items, anyOf/allOf entries and every $ref followed); Castor compiles at most {SchemaLimits.MaxDepth}.");
        Spend(1, path);
        RuntimeHelpers.EnsureSufficientExecutionStack();
    }

    private void Exit() => _depth--;

    private void Spend(int units, string path)
    {
        _work += units;
        if (_work > SchemaLimits.MaxExpansion)
            throw new UnsupportedSchemaException(path,
                $"the schema expands to more than {SchemaLimits.MaxExpansion} schema nodes (allOf entries and the definitions they reference are copied each time they are used); Castor compiles at most {SchemaLimits.MaxExpansion}. Use $ref outside allOf to share a definition.");
    }

    /// <summary>The grammar, unless it is over <see cref="SchemaLimits.MaxGrammarChars"/> or <see cref="SchemaLimits.MaxGrammarRules"/>.</summary>
    private string Checked(string gbnf)
    {
        if (_rules.Count > SchemaLimits.MaxGrammarRules)
            throw new UnsupportedSchemaException("/",
                $"the schema compiles to a grammar of {_rules.Count} rules; Castor allows at most {SchemaLimits.MaxGrammarRules}.");
        if (gbnf.Length > SchemaLimits.MaxGrammarChars)
            throw new UnsupportedSchemaException("/",
                $"the schema compiles to a grammar of {gbnf.Length} characters; Castor allows at most {SchemaLimits.MaxGrammarChars}.");
        return gbnf;
    }

    /// <summary>A grammar for any JSON value (JSON mode without a schema).</summary>
    public static string AnyJson()
    {
        var compiler = new JsonSchemaGrammar(new JsonObject(), PropertyOrder.Declared);
        compiler._rules["root"] = compiler.AnyValueRule();
        return compiler.Render();
    }

    /// <summary>A grammar for exactly one of <paramref name="values"/>, unquoted (the API's <c>text/x.enum</c> output).</summary>
    public static string PlainEnum(IEnumerable<string> values) =>
        "root ::= " + string.Join(" | ", values.Select(v => Literal(v, quoted: false))) + "\n";

    /// <summary>
    /// Builds one grammar from several schemas (a tool's parameters each): <paramref name="root"/> gets the rule name of
    /// every schema, in order, and returns the body of <c>root</c>. Shared rules (strings, numbers) are emitted once.
    /// </summary>
    /// <remarks>The schemas share one <see cref="SchemaLimits.MaxExpansion"/> budget and one grammar size limit.</remarks>
    public static string CompileMany(IReadOnlyList<(JsonNode Schema, string Prefix)> schemas, Func<IReadOnlyList<string>, string> root,
        PropertyOrder order = PropertyOrder.Declared, CancellationToken cancellationToken = default)
    {
        var compiler = new JsonSchemaGrammar(new JsonObject(), order, cancellationToken);
        var rules = new List<string>();
        foreach (var (schema, prefix) in schemas)
        {
            compiler._root = schema;
            compiler._refPrefix = Sanitize(prefix) + "-ref";
            try
            {
                rules.Add(compiler.Guard(() =>
                {
                    var rule = compiler.Visit(schema, "", Sanitize(prefix));
                    compiler.CheckParsePaths(schema);
                    return rule;
                }));
            }
            catch (UnsupportedSchemaException ex)
            {
                throw new UnsupportedSchemaException(prefix + ex.Path, ex.Message);
            }
        }
        return compiler.Guard(() =>
        {
            compiler._rules["root"] = root(rules);
            compiler.Ws();
            return compiler.Checked(compiler.Render());
        });
    }

    /// <summary>The largest minLength/maxLength/minItems/maxItems enforced (<see cref="SchemaLimits.MaxRepetition"/>).</summary>
    public const int MaxRepetition = SchemaLimits.MaxRepetition;

    /// <summary>The whitespace rule name every compiled grammar defines, for callers composing a root.</summary>
    public const string WhitespaceRule = "ws";

    private string Render(bool includeRoot = true)
    {
        var sb = new StringBuilder();
        if (includeRoot && _rules.TryGetValue("root", out var root))
            sb.Append("root ::= ").Append(root).Append('\n');
        foreach (var (name, body) in _rules)
            if (name != "root")
                sb.Append(name).Append(" ::= ").Append(body).Append('\n');
        return sb.ToString();
    }

    /// <summary>Returns a rule reference (or inline expression) producing values of <paramref name="schema"/>.</summary>
    private string Visit(JsonNode? schema, string path, string name)
    {
        Enter(path);
        try
        {
            return VisitSchema(schema, path, name);
        }
        finally
        {
            Exit();
        }
    }

    private string VisitSchema(JsonNode? schema, string path, string name)
    {
        switch (schema)
        {
            case null:
            case JsonValue v when v.TryGetValue<bool>(out var b) && b:
                return AnyValueRule();
            case JsonValue v when v.TryGetValue<bool>(out var b) && !b:
                throw new UnsupportedSchemaException(path, "the schema 'false' matches no value.");
            case JsonObject:
                break;
            default:
                throw new UnsupportedSchemaException(path, "a schema must be an object or a boolean.");
        }

        var s = (JsonObject)schema;
        foreach (var (key, _) in s)
            if (!Annotations.Contains(key) && !key.StartsWith("x-", StringComparison.Ordinal))
                throw new UnsupportedSchemaException(Join(path, key), $"the keyword '{key}' cannot be enforced during decoding.");

        if (s["$ref"] is JsonValue refValue)
            return Reference(refValue.GetValue<string>(), Join(path, "$ref"));

        var body = Body(s, path, name);
        if (IsNullable(s) && !TypeNames(s, path).Contains("null"))
            body = $"{Wrap(body)} | {Shared("null", "\"null\"")}";
        return Define(name, body);
    }

    private string Body(JsonObject s, string path, string name)
    {
        if (s.ContainsKey("const"))
            return Literal(s["const"]);
        if (s["enum"] is JsonArray values)
        {
            if (values.Count == 0) throw new UnsupportedSchemaException(Join(path, "enum"), "an empty enum matches no value.");
            var numeric = TypeNames(s, path).Overlaps(["integer", "number"]);
            // The Gemini Schema lists enum values as strings even for numbers; emit them as numbers then.
            return string.Join(" | ", values.Select(v => numeric && v is JsonValue jv && jv.TryGetValue<string>(out var text) && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out _)
                ? Literal(text, quoted: false)
                : Literal(v)));
        }
        foreach (var combinator in new[] { "anyOf", "oneOf" })
        {
            if (s[combinator] is not JsonArray options) continue;
            if (options.Count == 0) throw new UnsupportedSchemaException(Join(path, combinator), "an empty list matches no value.");
            var parts = new List<string>();
            for (var i = 0; i < options.Count; i++)
                parts.Add(Visit(Merge(s, options[i], combinator), $"{path}/{combinator}/{i}", $"{name}-{i}"));
            // Identical alternatives would only keep duplicate llama.cpp parse stacks alive.
            return string.Join(" | ", parts.Distinct(StringComparer.Ordinal));
        }
        if (s["allOf"] is JsonArray all)
        {
            var merged = new JsonObject();
            foreach (var (k, v) in s) if (k != "allOf") merged[k] = Copy(v, path);
            // The references inlined here stay marked until the merged schema is compiled: meeting one again inside
            // it is a cycle, which inlining would follow for ever (a stack overflow, fatal to the process).
            var inlined = new List<string>();
            try
            {
                for (var i = 0; i < all.Count; i++)
                {
                    var partPath = $"{path}/allOf/{i}";
                    if (all[i] is not JsonObject p) throw new UnsupportedSchemaException(Join(path, "allOf"), "allOf entries must be objects.");
                    var resolved = p;
                    if (p["$ref"] is JsonValue r)
                    {
                        var reference = r.GetValue<string>();
                        var key = _refPrefix + reference;
                        if (!inlined.Contains(key))
                        {
                            if (!_inlining.Add(key))
                                throw new UnsupportedSchemaException(Join(partPath, "$ref"),
                                    $"'{reference}' includes itself through allOf (a cycle); allOf entries are merged into the schema, so they cannot recurse. Recurse through a property or items instead.");
                            inlined.Add(key);
                        }
                        resolved = Resolve(reference, Join(partPath, "$ref"));
                    }
                    foreach (var (k, v) in resolved)
                    {
                        if (k == "properties" && merged["properties"] is JsonObject props && v is JsonObject more)
                            foreach (var (pk, pv) in more) props[pk] = Copy(pv, partPath);
                        else if (k == "required" && merged["required"] is JsonArray req && v is JsonArray moreReq)
                            foreach (var r2 in moreReq) req.Add(Copy(r2, partPath));
                        else if (merged.ContainsKey(k) && k is not ("description" or "title"))
                            throw new UnsupportedSchemaException(Join(path, "allOf"), $"allOf entries that both set '{k}' cannot be combined.");
                        else merged[k] = Copy(v, partPath);
                    }
                }
                Enter(Join(path, "allOf"));
                try
                {
                    return Body(merged, path, name);
                }
                finally
                {
                    Exit();
                }
            }
            finally
            {
                foreach (var key in inlined) _inlining.Remove(key);
            }
        }

        var types = TypeNames(s, path);
        if (types.Count == 0)
            types = InferTypes(s);
        if (types.Count == 0)
            return AnyValueRule();
        var alternatives = types.Select(t => TypeBody(t, s, path, $"{name}-{t}")).ToList();
        return string.Join(" | ", alternatives.Select(Wrap));
    }

    private string TypeBody(string type, JsonObject s, string path, string name) => type switch
    {
        "string" => StringBody(s, path),
        "integer" => IntegerBody(s, path),
        "number" => NumberBody(s, path),
        "boolean" => "(\"true\" | \"false\")",
        "null" => Shared("null", "\"null\""),
        "array" => ArrayBody(s, path, name),
        "object" => ObjectBody(s, path, name),
        _ => throw new UnsupportedSchemaException(Join(path, "type"), $"'{type}' is not a JSON Schema type."),
    };

    private string StringBody(JsonObject s, string path)
    {
        var format = s["format"]?.GetValue<string>();
        // A pattern or a format bounds the length itself; a maxLength past the repetition limit then only needs checking.
        var selfBounded = s["pattern"] is not null || FormatLengths.ContainsKey(format ?? "");
        var max = selfBounded && LargeCount(s, "maxLength") ? int.MaxValue : IntKeyword(s, "maxLength", path);
        var min = IntKeyword(s, "minLength", path) ?? 0;
        if (max < min) throw new UnsupportedSchemaException(Join(path, "maxLength"), "maxLength is below minLength.");
        if (s["pattern"] is { } patternNode)
            return PatternBody(patternNode, min, max, Join(path, "pattern"));

        // Length limits that every sentence of a format's grammar already meets (Pydantic's HttpUrl: 1 to 2083) are kept.
        var fits = FormatLengths.TryGetValue(format ?? "", out var lengths) && min <= lengths.Min && (max is null || max >= lengths.Max);
        switch (format)
        {
            case "date-time" or "date" or "time" or "uuid" when fits:
                return Shared($"{format}-string", format switch
                {
                    "date" => "\"\\\"\" date \"\\\"\"",
                    "time" => "\"\\\"\" time \"\\\"\"",
                    "uuid" => "\"\\\"\" [0-9a-f]{8} \"-\" [0-9a-f]{4} \"-\" [0-9a-f]{4} \"-\" [0-9a-f]{4} \"-\" [0-9a-f]{12} \"\\\"\"",
                    _ => "\"\\\"\" date \"T\" time \"\\\"\"",
                }, needsDateTime: format is "date-time" or "date" or "time");
            case "email" when fits:
                // Dots only between atoms, hyphen-free labels: what ajv's and zod's email checks accept (".." they refuse).
                return Shared("email-string", "\"\\\"\" [a-zA-Z0-9_+-]{1,16} (\".\" [a-zA-Z0-9_+-]{1,16}){0,2} \"@\" [a-zA-Z0-9]{1,16} (\".\" [a-zA-Z0-9]{1,16}){0,2} \".\" [a-zA-Z]{2,12} \"\\\"\"");
            case "uri" or "url" when fits:
                return Shared("uri-string", "\"\\\"\" [a-zA-Z] [a-zA-Z0-9+.-]{0,15} \"://\" [a-zA-Z0-9] [a-zA-Z0-9._~:/?#@!$&'()*+,;=%-]{0,200} \"\\\"\"");
            case "ipv4" when fits:
                var octet = Define("ipv4-octet", NumberRanges.Integer(0, 255));
                return Shared("ipv4-string", $"\"\\\"\" {octet} \".\" {octet} \".\" {octet} \".\" {octet} \"\\\"\"");
            case "hostname" when fits:
                return Shared("hostname-string", "\"\\\"\" [a-zA-Z0-9] ([a-zA-Z0-9-]{0,61} [a-zA-Z0-9])? (\".\" [a-zA-Z0-9] ([a-zA-Z0-9-]{0,61} [a-zA-Z0-9])?){0,4} \"\\\"\"");
            case "date-time" or "date" or "time" or "uuid" or "email" or "uri" or "url" or "ipv4" or "hostname":
                throw new UnsupportedSchemaException(Join(path, "format"),
                    $"format '{format}' is generated with {lengths.Min} to {lengths.Max} characters, which minLength/maxLength ({min} to {max?.ToString(CultureInfo.InvariantCulture) ?? "any"}) do not allow for.");
            case null or "enum" or "text" or "password":
                // "enum" is the Gemini Schema's marker for string enums; text and password constrain nothing.
                break;
            default:
                throw new UnsupportedSchemaException(Join(path, "format"),
                    $"the string format '{format}' cannot be enforced; supported: date-time, date, time, uuid, email, uri, ipv4, hostname (or any format with a 'pattern' beside it, which is enforced instead).");
        }
        var ch = Char();
        if (min == 0 && max is null) return AnyString();
        var repeat = max is null ? $"{{{min},}}" : $"{{{min},{max}}}";
        return $"\"\\\"\" {ch}{repeat} \"\\\"\"";
    }

    /// <summary>Whether <paramref name="keyword"/> is a whole number above <see cref="MaxRepetition"/> (Pydantic's HttpUrl: maxLength 2083).</summary>
    private static bool LargeCount(JsonObject s, string keyword) =>
        s[keyword] is JsonValue v && v.GetValueKind() == JsonValueKind.Number && v.TryGetValue<double>(out var d) && d > MaxRepetition && d == Math.Floor(d);

    /// <summary>The fewest and most characters each format grammar above generates.</summary>
    private static readonly Dictionary<string, (int Min, int Max)> FormatLengths = new(StringComparer.Ordinal)
    {
        ["date"] = (10, 10), ["time"] = (9, 21), ["date-time"] = (20, 32), ["uuid"] = (36, 36), ["email"] = (6, 114),
        ["uri"] = (5, 220), ["url"] = (5, 220), ["ipv4"] = (7, 15), ["hostname"] = (1, 319),
    };

    /// <summary>
    /// A string matching <c>pattern</c> (see <see cref="RegexGrammar"/>). A format beside it is then read as the
    /// pattern's name: zod writes both, its pattern being the stricter (uuid versions, leap days).
    /// </summary>
    private static string PatternBody(JsonNode patternNode, int min, int? max, string path)
    {
        if (patternNode is not JsonValue pv || !pv.TryGetValue<string>(out var pattern))
            throw new UnsupportedSchemaException(path, "pattern must be a string.");
        string gbnf;
        int patternMin;
        int? patternMax;
        try
        {
            (gbnf, patternMin, patternMax) = RegexGrammar.Translate(pattern);
        }
        catch (RegexNotSupportedException ex)
        {
            throw new UnsupportedSchemaException(path, $"the pattern {JsonSerializer.Serialize(pattern, JsonOptions)}: {ex.Message}");
        }
        if (min > patternMin || (max is not null && (patternMax is null || patternMax > max)))
            throw new UnsupportedSchemaException(path,
                $"a pattern whose matches have {patternMin} to {patternMax?.ToString(CultureInfo.InvariantCulture) ?? "any number of"} characters cannot be combined with minLength/maxLength ({min} to {max?.ToString(CultureInfo.InvariantCulture) ?? "any"}); put the length into the pattern.");
        return $"\"\\\"\" ({gbnf}) \"\\\"\"";
    }

    private string IntegerBody(JsonObject s, string path)
    {
        var (min, max) = NumericBounds(s, path);
        // format int32 (the Gemini Schema's, OpenAPI's) is a range; int64 is wider than the digits generated anyway.
        if (s["format"] is JsonValue f && f.TryGetValue<string>(out var format) && format == "int32")
        {
            min = Tighter(min, new NumberRanges.Bound(new DecimalBound(int.MinValue, 0), false), lower: true);
            max = Tighter(max, new NumberRanges.Bound(new DecimalBound(int.MaxValue, 0), false), lower: false);
        }
        if (min is null && max is null) return Shared("integer", "\"-\"? ([0-9] | [1-9] [0-9]{1,15})");
        try
        {
            return Wrap(NumberRanges.IntegerWithin(min, max));
        }
        catch (UnsupportedSchemaException ex)
        {
            throw new UnsupportedSchemaException(Join(path, "maximum"), ex.Message);
        }
    }

    private string NumberBody(JsonObject s, string path)
    {
        var (min, max) = NumericBounds(s, path);
        if (min is null && max is null)
            return Shared("number", "\"-\"? ([0-9] | [1-9] [0-9]{1,15}) (\".\" [0-9]{1,15})? ([eE] [-+]? [0-9]{1,2})?");
        try
        {
            return Wrap(NumberRanges.Decimal(min, max));
        }
        catch (UnsupportedSchemaException ex)
        {
            throw new UnsupportedSchemaException(Join(path, "maximum"), ex.Message);
        }
    }

    /// <summary>
    /// minimum/maximum and exclusiveMinimum/exclusiveMaximum (draft 4's boolean form beside minimum/maximum, and
    /// the numeric form of later drafts), read exactly from the numbers' text. A bound beyond the 16 digits the
    /// unbounded rules generate is left open: every number those rules generate already meets it.
    /// </summary>
    private static (NumberRanges.Bound? Min, NumberRanges.Bound? Max) NumericBounds(JsonObject s, string path)
    {
        static bool Flag(JsonObject s, string keyword) => s[keyword] is JsonValue v && v.TryGetValue<bool>(out var b) && b;

        NumberRanges.Bound? Read(string keyword, bool exclusive)
        {
            var node = s[keyword];
            if (node is null || (node is JsonValue bv && bv.TryGetValue<bool>(out _))) return null;
            string text;
            if (node.GetValueKind() == JsonValueKind.Number) text = node.ToJsonString();
            // The Gemini Schema is proto3 JSON, where a number may arrive as a string.
            else if (node is JsonValue sv && sv.TryGetValue<string>(out var str)) text = str.Trim();
            else throw new UnsupportedSchemaException(Join(path, keyword), $"{node.ToJsonString()} is not a number.");
            var value = DecimalBound.Parse(text)
                ?? throw new UnsupportedSchemaException(Join(path, keyword),
                    $"{text} is not a usable bound: a JSON number up to 1e{DecimalBound.MaxExponent} with at most {DecimalBound.MaxScale} digits after the point is.");
            return new NumberRanges.Bound(value, exclusive);
        }

        if (Flag(s, "exclusiveMinimum") && s["minimum"] is null)
            throw new UnsupportedSchemaException(Join(path, "exclusiveMinimum"), "exclusiveMinimum: true needs a minimum beside it.");
        if (Flag(s, "exclusiveMaximum") && s["maximum"] is null)
            throw new UnsupportedSchemaException(Join(path, "exclusiveMaximum"), "exclusiveMaximum: true needs a maximum beside it.");
        var min = Tighter(Read("minimum", Flag(s, "exclusiveMinimum")), Read("exclusiveMinimum", true), lower: true);
        var max = Tighter(Read("maximum", Flag(s, "exclusiveMaximum")), Read("exclusiveMaximum", true), lower: false);
        if (min is { } a && max is { } b && (b.Value < a.Value || (b.Value == a.Value && (a.Exclusive || b.Exclusive))))
            throw new UnsupportedSchemaException(Join(path, "maximum"), "the maximum is below the minimum; no number fits.");

        var limit = new DecimalBound(System.Numerics.BigInteger.Pow(10, NumberRanges.MaxDigits), 0);
        if (min is { } lo && lo.Value <= limit.Negate()) min = null;
        if (max is { } hi && hi.Value >= limit) max = null;
        return (min, max);
    }

    /// <summary>The stricter of two lower (or upper) bounds; at the same value, the exclusive one.</summary>
    private static NumberRanges.Bound? Tighter(NumberRanges.Bound? x, NumberRanges.Bound? y, bool lower)
    {
        if (x is not { } a) return y;
        if (y is not { } b) return a;
        var order = a.Value.CompareTo(b.Value);
        if (order == 0) return a.Exclusive ? a : b;
        return (order > 0) == lower ? a : b;
    }

    private string ArrayBody(JsonObject s, string path, string name)
    {
        var min = IntKeyword(s, "minItems", path) ?? 0;
        var max = IntKeyword(s, "maxItems", path);
        if (max < min) throw new UnsupportedSchemaException(Join(path, "maxItems"), "maxItems is below minItems.");
        if (s["prefixItems"] is { } prefixItems)
            return TupleBody(s, prefixItems, min, max, path, name);
        var item = s["items"] is JsonArray
            ? throw new UnsupportedSchemaException(Join(path, "items"), "tuple-style items (an array of schemas) are not supported; use prefixItems.")
            : Visit(s["items"], Join(path, "items"), name + "-item");
        var ws = Ws();
        if (max == 0) return $"\"[\" {ws} \"]\"";
        // llama.cpp refuses a repetition whose count times the rules it repeats reaches 2,000, counting for a group
        // every rule created inside it (a bounded repetition creates one per count). Repeating named rules keeps that
        // count at one, so maxItems can go up to SchemaLimits.MaxRepetition whatever the items hold.
        var next = max is null && min <= 1 ? $"\",\" {ws} {item}" : Define(name + "-next", $"\",\" {ws} {item}");
        string More(int atLeast, int? atMost) => atMost is null
            ? (atLeast == 0 ? $"({next})*" : $"{next}{{{atLeast},}}")
            : $"{next}{{{atLeast},{atMost}}}";
        if (min > 0) return $"\"[\" {ws} {item} {More(min - 1, max - 1)} {ws} \"]\"";
        var items = max is null ? $"({item} {More(0, null)} {ws})" : Define(name + "-items", $"{item} {More(0, max - 1)} {ws}");
        return $"\"[\" {ws} {items}? \"]\"";
    }

    /// <summary>
    /// A tuple (2020-12 <c>prefixItems</c>, zod's <c>z.tuple</c>): each listed schema in turn, then <c>items</c> for the
    /// rest (<c>false</c>: none; absent: any value). Leading elements are always written, so minItems must cover them.
    /// </summary>
    private string TupleBody(JsonObject s, JsonNode prefixItems, int min, int? max, string path, string name)
    {
        if (prefixItems is not JsonArray prefix || prefix.Count == 0)
            throw new UnsupportedSchemaException(Join(path, "prefixItems"), "prefixItems must be a non-empty array of schemas.");
        if (min < prefix.Count)
            throw new UnsupportedSchemaException(Join(path, "minItems"), $"a tuple whose {prefix.Count} prefixItems are not all required (minItems {min}) cannot be enforced.");
        if (max < prefix.Count)
            throw new UnsupportedSchemaException(Join(path, "maxItems"), "maxItems is below the number of prefixItems.");
        var ws = Ws();
        var parts = new List<string>();
        for (var i = 0; i < prefix.Count; i++)
            parts.Add(Visit(prefix[i], $"{Join(path, "prefixItems")}/{i}", $"{name}-{i}"));
        var body = new StringBuilder("\"[\" ").Append(ws).Append(' ').Append(string.Join($" \",\" {ws} ", parts));
        var restNode = s["items"];
        var noRest = restNode is JsonValue rv && rv.TryGetValue<bool>(out var allowed) && !allowed;
        if (noRest && min > prefix.Count)
            throw new UnsupportedSchemaException(Join(path, "minItems"), "minItems asks for more items than prefixItems, and items is false.");
        if (!noRest && max != prefix.Count)
        {
            var rest = restNode is null ? AnyValueRule() : Visit(restNode, Join(path, "items"), name + "-item");
            var atLeast = min - prefix.Count;
            var atMost = max - prefix.Count;
            body.Append(atMost is null
                ? $" (\",\" {ws} {rest}){{{atLeast},}}"
                : $" (\",\" {ws} {rest}){{{atLeast},{atMost}}}");
        }
        return body.Append(' ').Append(ws).Append(" \"]\"").ToString();
    }

    /// <summary>Only declared names are generated, so propertyNames must allow any string (zod's records say {type: string}).</summary>
    private static void CheckPropertyNames(JsonObject s, string path)
    {
        switch (s["propertyNames"])
        {
            case null:
            case JsonValue v when v.TryGetValue<bool>(out var b) && b:
                return;
            case JsonObject names when names.All(kv => kv.Key is "title" or "description" or "$comment"
                                                       || (kv.Key == "type" && kv.Value is JsonValue t && t.TryGetValue<string>(out var type) && type == "string")):
                return;
            default:
                throw new UnsupportedSchemaException(Join(path, "propertyNames"), "propertyNames other than {\"type\": \"string\"} cannot be enforced.");
        }
    }

    private string ObjectBody(JsonObject s, string path, string name)
    {
        CheckPropertyNames(s, path);
        var properties = s["properties"] as JsonObject ?? new JsonObject();
        var required = Strings(s, "required", path)?.ToHashSet(StringComparer.Ordinal) ?? [];
        foreach (var r in required)
            if (!properties.ContainsKey(r))
                throw new UnsupportedSchemaException(Join(path, "required"), $"'{r}' is required but not among the properties.");
        var ws = Ws();

        if (properties.Count == 0)
        {
            var additional = s["additionalProperties"];
            // "properties": {} with nothing else means an object without members (a function without parameters).
            var emptyDeclared = s["properties"] is JsonObject && additional is null;
            if (emptyDeclared || (additional is JsonValue av && av.TryGetValue<bool>(out var allowed) && !allowed))
                return $"\"{{\" {ws} \"}}\"";
            var value = Visit(additional, Join(path, "additionalProperties"), name + "-value");
            var pair = $"{AnyString()} {ws} \":\" {ws} {value}";
            return $"\"{{\" {ws} ({pair} (\",\" {ws} {pair})* {ws})? \"}}\"";
        }

        var names = OrderProperties(s, properties, path);
        // Extra properties are never generated: leaving them out is valid whatever additionalProperties says.
        var kv = new string[names.Count];
        for (var i = 0; i < names.Count; i++)
        {
            var value = Visit(properties[names[i]], $"{Join(path, "properties")}/{names[i]}", $"{name}-{Sanitize(names[i])}");
            kv[i] = Define($"{name}-{Sanitize(names[i])}-kv", $"{Literal(names[i])} {ws} \":\" {ws} {value}");
        }

        // after[i]: properties i.. remain and something was already written, so each starts with a comma.
        var after = new string[names.Count + 1];
        after[names.Count] = "";
        for (var i = names.Count - 1; i >= 0; i--)
        {
            var tail = after[i + 1];
            var item = $"\",\" {ws} {kv[i]}";
            after[i] = required.Contains(names[i]) ? $"{item} {tail}".Trim() : $"({item})? {tail}".Trim();
            if (after[i].Length > 0 && i < names.Count - 1) after[i] = Define($"{name}-after-{i}", after[i]);
        }
        // first[i]: properties i.. remain and nothing was written yet.
        string? first = "";
        for (var i = names.Count - 1; i >= 0; i--)
        {
            var here = $"{kv[i]} {after[i + 1]}".Trim();
            first = required.Contains(names[i]) ? here : (first == "" ? $"({here})?" : $"{here} | {Wrap(first!)}");
            if (i > 0) first = Define($"{name}-first-{i}", first);
        }
        var allOptional = names.All(n => !required.Contains(n));
        var members = allOptional && !first!.EndsWith(")?", StringComparison.Ordinal) ? $"({first})?" : first;
        return $"\"{{\" {ws} {Wrap(members!)} {ws} \"}}\"";
    }

    private List<string> OrderProperties(JsonObject s, JsonObject properties, string path)
    {
        var declared = properties.Select(p => p.Key).ToList();
        if (Strings(s, "propertyOrdering", path) is { } order)
        {
            foreach (var n in order)
                if (!properties.ContainsKey(n))
                    throw new UnsupportedSchemaException(Join(path, "propertyOrdering"), $"'{n}' is not among the properties.");
            return order.Concat(declared.Where(d => !order.Contains(d))).ToList();
        }
        return _order == PropertyOrder.Alphabetical ? declared.Order(StringComparer.Ordinal).ToList() : declared;
    }

    private string Reference(string reference, string path)
    {
        var key = _refPrefix + reference;
        if (_refRules.TryGetValue(key, out var existing)) return existing;
        var ruleName = _refPrefix + "-" + Sanitize(reference.TrimStart('#', '/'));
        if (ruleName.EndsWith('-')) ruleName += "root";
        _refRules[key] = ruleName;
        // Reserve the name first so recursive references terminate.
        _rules[ruleName] = "";
        var target = Resolve(reference, path);
        var body = Visit(target, reference, ruleName + "-body");
        _rules[ruleName] = body;
        return ruleName;
    }

    private JsonObject Resolve(string reference, string path)
    {
        if (!reference.StartsWith('#'))
            throw new UnsupportedSchemaException(path, $"'{reference}': only references inside the schema (#/...) are supported.");
        JsonNode? node = _root;
        foreach (var raw in reference.TrimStart('#').Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            var segment = Uri.UnescapeDataString(raw).Replace("~1", "/").Replace("~0", "~");
            node = node is JsonObject o ? o[segment] : null;
        }
        return node as JsonObject ?? throw new UnsupportedSchemaException(path, $"'{reference}' does not point to a schema object.");
    }

    private string Define(string name, string body)
    {
        if (IsSimple(body)) return body;
        if (_ruleByBody.TryGetValue(body, out var existing)) return existing;
        var unique = Sanitize(name);
        var n = 1;
        while (_rules.ContainsKey(unique) && _rules[unique] != body) unique = $"{Sanitize(name)}{++n}";
        _rules[unique] = body;
        _ruleByBody[body] = unique;
        return unique;
    }

    private string Shared(string name, string body, bool needsDateTime = false)
    {
        if (needsDateTime)
        {
            _rules.TryAdd("date", "[0-9]{4} \"-\" (\"0\" [1-9] | \"1\" [0-2]) \"-\" (\"0\" [1-9] | [1-2] [0-9] | \"3\" [0-1])");
            _rules.TryAdd("time", "([01] [0-9] | \"2\" [0-3]) \":\" [0-5] [0-9] \":\" [0-5] [0-9] (\".\" [0-9]{1,6})? (\"Z\" | [+-] ([01] [0-9] | \"2\" [0-3]) \":\" [0-5] [0-9])");
        }
        _rules.TryAdd(name, body);
        return name;
    }

    // One character of a JSON string; \u escapes of lone surrogates are left out, as JSON parsers refuse them.
    private string Char() => Shared("char", "[^\"\\\\\\x7F\\x00-\\x1F] | \"\\\\\" ([\"\\\\/bfnrt] | \"u\" ([0-9a-cA-CeEfF] [0-9a-fA-F]{3} | [dD] [0-7] [0-9a-fA-F]{2}))");

    private string AnyString() => Shared("string", "\"\\\"\" " + Char() + "* \"\\\"\"");

    private string Ws() => Shared("ws", "| \" \" | \"\\n\" [ \\t]{0,8}");

    private string AnyValueRule()
    {
        var ws = Ws();
        var str = AnyString();
        var num = Shared("number", "\"-\"? ([0-9] | [1-9] [0-9]{1,15}) (\".\" [0-9]{1,15})? ([eE] [-+]? [0-9]{1,2})?");
        _rules.TryAdd("value", $"object | array | {str} | {num} | (\"true\" | \"false\") | null");
        _rules.TryAdd("object", $"\"{{\" {ws} ({str} {ws} \":\" {ws} value (\",\" {ws} {str} {ws} \":\" {ws} value)* {ws})? \"}}\"");
        _rules.TryAdd("array", $"\"[\" {ws} (value (\",\" {ws} value)* {ws})? \"]\"");
        _rules.TryAdd("null", "\"null\"");
        return "value";
    }

    private static JsonNode Merge(JsonObject parent, JsonNode? option, string combinator)
    {
        // Sibling keywords (e.g. a description, or nullable) apply to every alternative.
        if (option is not JsonObject o) return option?.DeepClone() ?? new JsonObject();
        // Nothing to add: the option itself (visiting never changes a schema), not a copy of all it holds.
        if (!parent.ContainsKey("nullable") || o.ContainsKey("nullable")) return o;
        var merged = (JsonObject)o.DeepClone();
        foreach (var (k, v) in parent)
            if (k != combinator && k is "nullable" && !merged.ContainsKey(k)) merged[k] = v?.DeepClone();
        return merged;
    }

    private static HashSet<string> TypeNames(JsonObject s, string path)
    {
        var set = new HashSet<string>(StringComparer.Ordinal);
        switch (s["type"])
        {
            case JsonValue v:
                set.Add(v.GetValue<string>().ToLowerInvariant());
                break;
            case JsonArray:
                foreach (var t in Strings(s, "type", path)!) set.Add(t.ToLowerInvariant());
                break;
        }
        set.Remove("type_unspecified");
        return set;
    }

    /// <summary>
    /// A keyword that lists names (<c>required</c>, <c>propertyOrdering</c>, <c>type</c>): null when it is not a list,
    /// and a 400 naming the keyword when an entry is not a string (<c>null</c> included).
    /// </summary>
    private static List<string>? Strings(JsonObject s, string keyword, string path)
    {
        if (s[keyword] is not JsonArray list) return null;
        var names = new List<string>(list.Count);
        for (var i = 0; i < list.Count; i++)
        {
            if (list[i] is not JsonValue v || !v.TryGetValue<string>(out var name))
                throw new UnsupportedSchemaException(Join(path, keyword),
                    $"'{keyword}' must list strings; entry {i} is {list[i]?.ToJsonString() ?? "null"}.");
            names.Add(name);
        }
        return names;
    }

    /// <summary>A copy of <paramref name="node"/> for an allOf merge, counted against <see cref="SchemaLimits.MaxExpansion"/>.</summary>
    private JsonNode? Copy(JsonNode? node, string path)
    {
        Spend(CountNodes(node, 0, path), path);
        return node?.DeepClone();
    }

    private static int CountNodes(JsonNode? node, int depth, string path)
    {
        // Request bodies nest at most 64 JSON levels; a deeper node is refused before copying it recurses that deep.
        if (depth > 2 * SchemaLimits.MaxDepth)
            throw new UnsupportedSchemaException(path,
                $"the schema nests more than {SchemaLimits.MaxDepth} levels deep (counting properties, items, anyOf/allOf entries and every $ref followed); Castor compiles at most {SchemaLimits.MaxDepth}.");
        return node switch
        {
            JsonObject o => 1 + o.Sum(p => CountNodes(p.Value, depth + 1, path)),
            JsonArray a => 1 + a.Sum(n => CountNodes(n, depth + 1, path)),
            _ => 1,
        };
    }

    private static HashSet<string> InferTypes(JsonObject s)
    {
        if (s.ContainsKey("properties") || s.ContainsKey("additionalProperties") || s.ContainsKey("required")) return ["object"];
        if (s.ContainsKey("items") || s.ContainsKey("minItems") || s.ContainsKey("maxItems")) return ["array"];
        if (s.ContainsKey("minLength") || s.ContainsKey("maxLength") || s.ContainsKey("format")) return ["string"];
        if (s.ContainsKey("minimum") || s.ContainsKey("maximum") || s.ContainsKey("exclusiveMinimum") || s.ContainsKey("exclusiveMaximum")) return ["number"];
        return [];
    }

    private static double Number(JsonNode node, string path) =>
        node.GetValueKind() == JsonValueKind.Number
            ? double.Parse(node.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture)
            : throw new UnsupportedSchemaException(path, $"{node.ToJsonString()} is not a number.");

    private static bool IsNullable(JsonObject s) => s["nullable"] is JsonValue v && v.TryGetValue<bool>(out var b) && b;

    private static int? IntKeyword(JsonObject s, string keyword, string path)
    {
        if (s[keyword] is not { } node) return null;
        double value;
        if (node is JsonValue v && v.TryGetValue<string>(out var text))
        {
            // The Gemini Schema writes int64 keywords (minItems, maxLength) as strings.
            if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value))
                throw new UnsupportedSchemaException(Join(path, keyword), $"'{text}' is not a number.");
        }
        else value = Number(node, Join(path, keyword));
        if (value < 0 || value != Math.Floor(value))
            throw new UnsupportedSchemaException(Join(path, keyword), $"{value} is not a usable count.");
        // llama.cpp unrolls x{m,n} into n rules; past a few thousand a grammar gets too slow to build and to run.
        if (value > MaxRepetition)
            throw new UnsupportedSchemaException(Join(path, keyword), $"{value} is more than the {MaxRepetition} repetitions a grammar can enforce; use a smaller limit or none.");
        return (int)value;
    }

    internal static string Literal(JsonNode? value) => value switch
    {
        null => "null",
        JsonValue v when v.TryGetValue<string>(out var s) => Literal(JsonSerializer.Serialize(s, JsonOptions), quoted: false),
        _ => Literal(value.ToJsonString(JsonOptions), quoted: false),
    };

    /// <summary>A GBNF string literal producing exactly <paramref name="text"/> (a JSON string when <paramref name="quoted"/>).</summary>
    public static string Literal(string text, bool quoted = true)
    {
        if (quoted) text = JsonSerializer.Serialize(text, JsonOptions);
        var sb = new StringBuilder("\"");
        foreach (var c in text)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                default:
                    if (c < 0x20) sb.Append("\\x").Append(((int)c).ToString("X2", CultureInfo.InvariantCulture));
                    else sb.Append(c);
                    break;
            }
        }
        return sb.Append('"').ToString();
    }

    private static readonly JsonSerializerOptions JsonOptions = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static string Wrap(string body) => IsSimple(body) ? body : $"({body})";

    private static bool IsSimple(string body)
    {
        if (body.Length == 0) return true;
        // A bare rule name or a single quoted literal needs no rule of its own.
        if (body.All(c => char.IsAsciiLetterOrDigit(c) || c == '-')) return true;
        if (body.Length < 2 || body[0] != '"' || body[^1] != '"') return false;
        for (var i = 1; i < body.Length - 1; i++)
        {
            if (body[i] == '\\') i++;
            else if (body[i] == '"') return false;
        }
        return true;
    }

    private static string Sanitize(string name)
    {
        var sb = new StringBuilder();
        foreach (var c in name) sb.Append(char.IsAsciiLetterOrDigit(c) ? char.ToLowerInvariant(c) : '-');
        var result = sb.ToString().Trim('-');
        return result.Length == 0 ? "x" : result;
    }

    private static string Join(string path, string key) => path + "/" + key;
}

/// <summary>A schema keyword the grammar cannot enforce; <see cref="Path"/> is a JSON pointer into the schema.</summary>
public sealed class UnsupportedSchemaException(string path, string message) : Exception(message)
{
    public string Path { get; } = path.Length == 0 ? "/" : path;
}
