using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Castor.Engine.Grammars;

/// <summary>
/// The <see cref="SchemaLimits.MaxParsePaths"/> check. llama.cpp follows every alternative of a grammar that can still
/// match the text so far with a stack of its own, and checks each candidate token against every stack. Alternatives
/// that begin alike stay alive together, and when each holds further look-alike alternatives the stacks multiply:
/// 8 nested levels of 4 such <c>anyOf</c> entries are 65,536 stacks, which stalled the scheduler thread for every
/// project. This estimates, from the schema, the most parse paths a position of the output can keep alive, and
/// refuses a schema over the limit; alternatives that differ in their first character, or in an object's first
/// property name (and that property's <c>const</c>/<c>enum</c> value) are told apart at once and count once.
/// </summary>
public sealed partial class JsonSchemaGrammar
{
    // Past this many alternatives in one list the pairwise comparison is skipped and all count as alike.
    private const int MaxComparedAlternatives = 256;
    // How far into a value its lead (the text every output of it begins with) is followed.
    private const int MaxLeadDepth = 3;

    private readonly Dictionary<string, long> _pathsByRef = new(StringComparer.Ordinal);
    // References whose paths are being counted, with how many look-alike alternatives were open when each began.
    private readonly Dictionary<string, int> _countingRefs = new(StringComparer.Ordinal);
    private int _lookAlikesOpen;
    private readonly Dictionary<(string Reference, int Depth), HashSet<string>> _leadsByRef = [];

    private void CheckParsePaths(JsonNode schema)
    {
        // This pass has a budget of its own (it visits each schema about once more); the compilation's goes on after it.
        var spent = _work;
        _work = 0;
        Paths(schema, "");
        _work = spent;
    }

    /// <summary>The most parse paths a position inside a value of <paramref name="schema"/> can keep alive.</summary>
    private long Paths(JsonNode? schema, string path)
    {
        Enter(path);
        try
        {
            if (schema is not JsonObject s) return 1;
            if (s["$ref"] is JsonValue r && r.TryGetValue<string>(out var reference)) return ReferencePaths(reference, Join(path, "$ref"));
            if (s.ContainsKey("const") || s.ContainsKey("enum")) return 1;
            foreach (var combinator in new[] { "anyOf", "oneOf" })
                if (s[combinator] is JsonArray options)
                    return Alternatives(options.Select(o => Merge(s, o, combinator)).ToList(), Join(path, combinator));

            long most = 1;
            if (s["allOf"] is JsonArray all)
                for (var i = 0; i < all.Count; i++)
                    most = Math.Max(most, Paths(all[i], $"{path}/allOf/{i}"));
            // Members follow one another, so a position is inside one of them at a time: the most of any member.
            if (s["properties"] is JsonObject properties)
                foreach (var (name, value) in properties)
                    most = Math.Max(most, Paths(value, $"{Join(path, "properties")}/{name}"));
            if (s["additionalProperties"] is JsonObject additional)
                most = Math.Max(most, Paths(additional, Join(path, "additionalProperties")));
            if (s["items"] is JsonObject items)
                most = Math.Max(most, Paths(items, Join(path, "items")));
            return most;
        }
        finally
        {
            Exit();
        }
    }

    private long ReferencePaths(string reference, string path)
    {
        var key = _refPrefix + reference;
        if (_pathsByRef.TryGetValue(key, out var known)) return known;
        if (_countingRefs.TryGetValue(key, out var openAtStart))
        {
            // A recursion: its paths are the reference's own, being counted, unless the way back passed through
            // look-alike alternatives, which would then multiply again at every level of the output.
            if (_lookAlikesOpen > openAtStart)
                throw new UnsupportedSchemaException(path,
                    $"'{reference}' recurses through alternatives that begin alike, so the parse paths llama.cpp keeps alive would multiply at every level (no bound below {SchemaLimits.MaxParsePaths}); make the alternatives differ in their first property name or value.");
            return 1;
        }
        _countingRefs[key] = _lookAlikesOpen;
        var paths = Paths(Resolve(reference, path), reference);
        _countingRefs.Remove(key);
        _pathsByRef[key] = paths;
        return paths;
    }

    /// <summary>Alternatives alive together add up; those that begin differently are apart after their first text.</summary>
    private long Alternatives(IReadOnlyList<JsonNode> options, string path)
    {
        var leads = options.Select(o => Leads(o, 0, [])).ToList();
        var compare = options.Count <= MaxComparedAlternatives;
        var alike = new List<int>[options.Count];
        for (var i = 0; i < options.Count; i++)
        {
            alike[i] = [];
            for (var j = 0; j < options.Count; j++)
                if (i == j || !compare || Overlap(leads[i], leads[j]))
                    alike[i].Add(j);
        }

        var paths = new long[options.Count];
        for (var i = 0; i < options.Count; i++)
        {
            var lookAlike = alike[i].Count > 1;
            if (lookAlike) _lookAlikesOpen++;
            try
            {
                paths[i] = Paths(options[i], $"{path}/{i}");
            }
            finally
            {
                if (lookAlike) _lookAlikesOpen--;
            }
        }

        long most = 1;
        for (var i = 0; i < options.Count; i++)
        {
            long sum = 0;
            foreach (var j in alike[i]) sum = Math.Min(sum + paths[j], long.MaxValue / 2);
            most = Math.Max(most, sum);
        }
        if (most > SchemaLimits.MaxParsePaths)
            throw new UnsupportedSchemaException(path,
                $"these alternatives can keep {most} parse paths alive at once (alternatives that begin alike stay alive together, and look-alikes nested inside look-alikes multiply); Castor allows at most {SchemaLimits.MaxParsePaths}. Make the alternatives differ in their first property name or value, or nest fewer of them.");
        return most;
    }

    /// <summary>
    /// Whether two alternatives can share a parse path that goes on into nested values. A complete literal (a
    /// <c>const</c>, an <c>enum</c> value, null, true, false) ends within a few characters and holds nothing nested,
    /// so sharing one (two nullable alternatives both allow null) does not count.
    /// </summary>
    private static bool Overlap(HashSet<string> a, HashSet<string> b)
    {
        foreach (var x in a)
        {
            if (x.EndsWith(Closed)) continue;
            foreach (var y in b)
                if (!y.EndsWith(Closed) && (x.StartsWith(y, StringComparison.Ordinal) || y.StartsWith(x, StringComparison.Ordinal)))
                    return true;
        }
        return false;
    }

    // Marks a lead that is a whole literal value.
    private const char Closed = '\0';

    /// <summary>
    /// Texts one of which begins every output of <paramref name="schema"/> (whitespace left out); the empty text when
    /// the output may begin with anything. Two schemas whose leads are not prefixes of one another never share a parse path.
    /// </summary>
    private HashSet<string> Leads(JsonNode? schema, int depth, HashSet<string> following)
    {
        Spend(1, _path);
        RuntimeHelpers.EnsureSufficientExecutionStack();
        if (schema is not JsonObject s || depth > MaxLeadDepth) return [""];
        if (s["$ref"] is JsonValue r && r.TryGetValue<string>(out var reference))
        {
            // Shared definitions are looked at once per depth (a diamond of references would otherwise fan out).
            if (_leadsByRef.TryGetValue((_refPrefix + reference, depth), out var known)) return known;
            if (!following.Add(reference)) return [""];
            try
            {
                var target = Leads(Resolve(reference, _path), depth, following);
                _leadsByRef[(_refPrefix + reference, depth)] = target;
                return target;
            }
            catch (UnsupportedSchemaException)
            {
                return [""];
            }
            finally
            {
                following.Remove(reference);
            }
        }
        if (s.ContainsKey("const")) return [Compact(s["const"])];
        if (s["enum"] is JsonArray values) return values.Select(Compact).ToHashSet(StringComparer.Ordinal);
        foreach (var combinator in new[] { "anyOf", "oneOf" })
            if (s[combinator] is JsonArray options)
                return options.SelectMany(o => Leads(Merge(s, o, combinator), depth, following)).ToHashSet(StringComparer.Ordinal);
        if (s.ContainsKey("allOf")) return [""];

        var types = TypeNames(s, _path);
        if (types.Count == 0) types = InferTypes(s);
        if (types.Count == 0) return [""];
        var leads = new HashSet<string>(StringComparer.Ordinal);
        if (IsNullable(s)) leads.Add("null" + Closed);
        foreach (var type in types)
        {
            switch (type)
            {
                case "string": leads.Add("\""); break;
                case "integer" or "number": leads.UnionWith(["-", "0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]); break;
                case "boolean": leads.UnionWith(["true" + Closed, "false" + Closed]); break;
                case "null": leads.Add("null" + Closed); break;
                case "array": leads.Add("["); break;
                case "object": leads.UnionWith(ObjectLeads(s, depth, following)); break;
                default: return [""];
            }
        }
        return leads;
    }

    /// <summary><c>{"name":</c> and the lead of its value, for each property the object can begin with.</summary>
    private IEnumerable<string> ObjectLeads(JsonObject s, int depth, HashSet<string> following)
    {
        if (s["properties"] is not JsonObject { Count: > 0 } properties) return ["{"];
        var required = Strings(s, "required", _path)?.ToHashSet(StringComparer.Ordinal) ?? [];
        var leads = new List<string>();
        foreach (var name in OrderProperties(s, properties, _path))
        {
            var key = "{" + JsonSerializer.Serialize(name) + ":";
            leads.AddRange(Leads(properties[name], depth + 1, following).Select(value => key + value.TrimEnd(Closed)));
            // An optional property may be left out, so the next one can begin the object too.
            if (required.Contains(name)) return leads;
        }
        leads.Add("{}");
        return leads;
    }

    private static string Compact(JsonNode? value) => (value?.ToJsonString() ?? "null") + Closed;
}
