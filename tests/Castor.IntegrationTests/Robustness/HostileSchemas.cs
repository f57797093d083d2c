using System.Text;
using System.Text.Json.Nodes;
using Castor.Engine.Grammars;
using static Castor.IntegrationTests.Robustness.HostileSchemaShapes;

namespace Castor.IntegrationTests.Robustness;

/// <summary>
/// Schemas built to hurt the grammar compiler (issue 11): cycles, long reference chains, deep nesting, allOf fan-out
/// and look-alike alternatives, each at a limit of <see cref="SchemaLimits"/> and just past it, and every one sent
/// through every request field that compiles a schema. The mutation fuzzer (<see cref="FuzzCorpus"/>) changes valid
/// bodies field by field and never builds this kind of structure.
/// </summary>
public static class HostileSchemas
{
    public const string Generate = "/v1beta/models/gemini-2.5-flash:generateContent";
    public const string Stream = "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse";
    public const string CountTokens = "/v1beta/models/gemini-2.5-flash:countTokens";
    public const string Chat = "/v1beta/openai/chat/completions";

    /// <summary>One schema, and whether Castor must refuse it (past a limit) or may run it.</summary>
    public sealed record Case(string Label, string Schema, bool PastALimit)
    {
        public Case(string label, JsonNode schema, bool pastALimit) : this(label, schema.ToJsonString(), pastALimit) { }
    }

    public static IReadOnlyList<Case> Cases()
    {
        var cases = new List<Case>
        {
            new("allOf cycle through the root", JsonNode.Parse("""{"allOf":[{"$ref":"#"}]}""")!, true),
            new("allOf cycle through two definitions", JsonNode.Parse("""{"$defs":{"a":{"allOf":[{"$ref":"#/$defs/b"}]},"b":{"allOf":[{"$ref":"#/$defs/a"}]}},"allOf":[{"$ref":"#/$defs/a"}]}""")!, true),
            new("allOf of allOf cycle", JsonNode.Parse("""{"$defs":{"a":{"allOf":[{"allOf":[{"$ref":"#/$defs/a"}]}]}},"$ref":"#/$defs/a"}""")!, true),
            new("$ref to a $ref that refers back", JsonNode.Parse("""{"$defs":{"a":{"$ref":"#/$defs/b"},"b":{"$ref":"#/$defs/a"}},"$ref":"#/$defs/a"}""")!, false),
            new("recursive tree (legal)", JsonNode.Parse("""{"$defs":{"n":{"type":"object","properties":{"v":{"type":"integer"},"kids":{"type":"array","items":{"$ref":"#/$defs/n"},"maxItems":2}},"required":["v"]}},"$ref":"#/$defs/n"}""")!, false),
            new($"$ref chain of {SchemaLimits.MaxDepth / 2 - 1}", ReferenceChain(SchemaLimits.MaxDepth / 2 - 1), false),
            new($"$ref chain of {SchemaLimits.MaxDepth + 1}", ReferenceChain(SchemaLimits.MaxDepth + 1), true),
            new("$ref chain of 3,000", ReferenceChain(3_000), true),
            new("allOf fan-out 6 levels", AllOfFanOut(6), false),
            new("allOf fan-out 20 levels", AllOfFanOut(20), true),
            new("look-alike anyOf 2 levels × 4", LookAlikeAnyOf(2, 4), false),
            new("look-alike anyOf 3 levels × 4", LookAlikeAnyOf(3, 4), true),
            new("look-alike anyOf 8 levels × 4 (the review's)", LookAlikeAnyOf(8, 4), true),
            new("look-alike anyOf that recurses", JsonNode.Parse("""{"anyOf":[{"type":"object","properties":{"v":{"$ref":"#"},"a":{"type":"string"}},"required":["v"]},{"type":"object","properties":{"v":{"$ref":"#"},"b":{"type":"string"}},"required":["v"]}]}""")!, true),
            // Request bodies nest at most 64 JSON levels: the deepest nesting that still parses, then one past it.
            new("properties nested 27 deep", Nest(27, n => new JsonObject { ["type"] = "object", ["properties"] = new JsonObject { ["a"] = n } }), false),
            new("items nested 55 deep", Nest(55, n => new JsonObject { ["type"] = "array", ["items"] = n, ["maxItems"] = 1 }), false),
            new("anyOf nested 25 deep", Nest(25, n => new JsonObject { ["anyOf"] = new JsonArray(n) }), false),
            // Built as text: System.Text.Json does not write JSON nested past 64 levels.
            new("items nested 100 deep (past the body's JSON depth)",
                string.Concat(Enumerable.Repeat("""{"type":"array","items":""", 100)) + """{"type":"boolean"}""" + new string('}', 100), true),
            new("null inside required", JsonNode.Parse("""{"type":"object","properties":{"a":{"type":"string"}},"required":[null]}""")!, true),
            new("null inside type", JsonNode.Parse("""{"type":["string",null]}""")!, true),
            new("minLength 2000", JsonNode.Parse("""{"type":"string","minLength":2000}""")!, true),
        };
        return cases;
    }

    /// <summary>Every way a request carries a schema to the compiler, as a body around <paramref name="schema"/>.</summary>
    public static IEnumerable<(string Via, string Path, string Body)> Carriers(string schema)
    {
        const string Contents = "\"contents\":[{\"parts\":[{\"text\":\"Once upon a time\"}]}]";
        string Body(string template) => template.Replace("CONTENTS", Contents).Replace("SCHEMA", schema);
        yield return ("responseJsonSchema", Generate, Body("""{CONTENTS,"generationConfig":{"maxOutputTokens":4,"responseMimeType":"application/json","responseJsonSchema":SCHEMA}}"""));
        yield return ("responseSchema", Generate, Body("""{CONTENTS,"generationConfig":{"maxOutputTokens":4,"responseMimeType":"application/json","responseSchema":SCHEMA}}"""));
        yield return ("streamed responseJsonSchema", Stream, Body("""{CONTENTS,"generationConfig":{"maxOutputTokens":4,"responseMimeType":"application/json","responseJsonSchema":SCHEMA}}"""));
        yield return ("tool parametersJsonSchema", Generate, Body("""{CONTENTS,"generationConfig":{"maxOutputTokens":4},"tools":[{"functionDeclarations":[{"name":"f","parametersJsonSchema":SCHEMA}]}]}"""));
        yield return ("tool parameters", Generate, Body("""{CONTENTS,"generationConfig":{"maxOutputTokens":4},"tools":[{"functionDeclarations":[{"name":"f","parameters":SCHEMA}]}],"toolConfig":{"functionCallingConfig":{"mode":"ANY"}}}"""));
        yield return ("countTokens generationConfig", CountTokens, Body("""{"generateContentRequest":{"model":"models/gemini-2.5-flash",CONTENTS,"generationConfig":{"responseMimeType":"application/json","responseJsonSchema":SCHEMA}}}"""));
        yield return ("countTokens tools", CountTokens, Body("""{"generateContentRequest":{"model":"models/gemini-2.5-flash",CONTENTS,"tools":[{"functionDeclarations":[{"name":"f","parametersJsonSchema":SCHEMA}]}]}}"""));
        yield return ("OpenAI response_format", Chat, Body("""{"model":"gemini-2.5-flash","max_tokens":4,"messages":[{"role":"user","content":"Once upon a time"}],"response_format":{"type":"json_schema","json_schema":{"name":"s","schema":SCHEMA}}}"""));
        yield return ("OpenAI tools", Chat, Body("""{"model":"gemini-2.5-flash","max_tokens":4,"messages":[{"role":"user","content":"Once upon a time"}],"tools":[{"type":"function","function":{"name":"f","parameters":SCHEMA}}]}"""));
    }

    /// <summary>Every case through every carrier, as fuzz requests: a case past a limit must be a 400.</summary>
    public static List<FuzzRequest> Requests()
    {
        var requests = new List<FuzzRequest>();
        foreach (var c in Cases())
        {
            var schema = c.Schema;
            foreach (var (via, path, body) in Carriers(schema))
            {
                // A tool's parameters must describe an object; a case that is legal as a response schema may be
                // refused there for that alone, so only past-limit cases demand a 400 through tools.
                requests.Add(new FuzzRequest($"{c.Label} via {via}", "POST", path)
                {
                    Body = Encoding.UTF8.GetBytes(body),
                    ExpectedStatus = c.PastALimit ? 400 : null,
                    Index = requests.Count,
                });
            }
        }
        return requests;
    }
}
