using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Castor.IntegrationTests.Robustness;

/// <summary>
/// Builds the hostile requests for one seed, deterministically: the same seed gives the same requests in the same order,
/// so a failure reproduces with CASTOR_FUZZ_SEED. Expectations are set only where the right answer is certain
/// (a truncated object is never valid JSON; no key is always 403); everything else is held to the universal invariants.
/// </summary>
public sealed class FuzzCorpus(int seed)
{
    public const string Model = "gemini-2.5-flash";

    /// <summary>Just over the API's 20 MB request limit.</summary>
    public const int OversizedBytes = 21 * 1024 * 1024;

    private readonly Random _rng = new(seed);
    private readonly List<FuzzRequest> _requests = [];

    public IReadOnlyList<FuzzRequest> Build()
    {
        AddUnmutatedSamples();
        AddMutatedBodies(560);
        AddOpenAIBodies(200);
        AddFileRequests(160);
        AddTruncatedBodies(120);
        AddInvalidUtf8(80);
        AddCorruptedBytes(40);
        AddDeepNesting();
        AddOddBodies();
        AddContentTypes();
        AddWrongMethods();
        AddOddModelNames();
        AddOddPaths();
        AddOddQueries();
        AddKeyVariants();
        AddOversized();

        // Interleave the kinds, so the workers mix cheap refusals with generations as real traffic would.
        for (var i = _requests.Count - 1; i > 0; i--)
        {
            var j = _rng.Next(i + 1);
            (_requests[i], _requests[j]) = (_requests[j], _requests[i]);
        }
        return _requests.Select((r, i) => r with { Index = i }).ToList();
    }

    // ---------------------------------------------------------------- routes

    private string Version() => Pick("v1beta", "v1beta", "v1beta", "v1", "v1alpha");

    private string GenerateRoute(SdkBodies.Sample sample, string model = Model)
    {
        var v = Version();
        if (sample.CountTokens) return $"/{v}/models/{model}:countTokens";
        return _rng.Next(100) switch
        {
            < 58 => $"/{v}/models/{model}:generateContent",
            < 80 => $"/{v}/models/{model}:streamGenerateContent?alt=sse",
            < 88 => $"/{v}/models/{model}:streamGenerateContent",
            _ => $"/{v}/models/{model}:countTokens",
        };
    }

    private static FuzzRequest Post(string label, string path, byte[] body) => new(label, "POST", path) { Body = body };

    private static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    private T Pick<T>(params T[] items) => items[_rng.Next(items.Length)];

    private SdkBodies.Sample Sample() => SdkBodies.All[_rng.Next(SdkBodies.All.Count)];

    // ---------------------------------------------------------------- SDK bodies, whole and mutated

    private void AddUnmutatedSamples()
    {
        foreach (var sample in SdkBodies.All)
            _requests.Add(Post($"sdk body {sample.Name}", GenerateRoute(sample), Utf8(sample.Json)));
    }

    private void AddMutatedBodies(int count)
    {
        for (var i = 0; i < count; i++)
        {
            var sample = Sample();
            var doc = MutableJson.Parse(sample.Json);
            var log = new List<string>();
            var mutations = _rng.Next(100) switch { < 55 => 1, < 85 => 2, _ => 3 };
            for (var m = 0; m < mutations; m++) log.Add(Mutate(doc));
            var model = _rng.Next(10) == 0 ? Pick("stories260k", "models/" + Model, "gemini-2.0-flash", "gemini-pro-latest") : Model;
            _requests.Add(Post($"mutated {sample.Name}: {string.Join("; ", log)}", GenerateRoute(sample, model), doc.ToBytes()));
        }
    }

    /// <summary>The OpenAI-compatible routes get the same treatment; their errors must have OpenAI's shape instead.</summary>
    private void AddOpenAIBodies(int mutated)
    {
        static string Route(SdkBodies.Sample sample) => "/v1beta/openai/" + sample.Name[..sample.Name.IndexOf(':')];
        foreach (var sample in SdkBodies.OpenAI)
            _requests.Add(Post($"openai body {sample.Name}", Route(sample), Utf8(sample.Json)) with { Key = KeyMode.ValidBearer });
        for (var i = 0; i < mutated; i++)
        {
            var sample = SdkBodies.OpenAI[_rng.Next(SdkBodies.OpenAI.Count)];
            var doc = MutableJson.Parse(sample.Json);
            var log = new List<string>();
            var mutations = _rng.Next(100) switch { < 55 => 1, < 85 => 2, _ => 3 };
            for (var m = 0; m < mutations; m++) log.Add(Mutate(doc));
            _requests.Add(Post($"mutated openai {sample.Name}: {string.Join("; ", log)}", Route(sample), doc.ToBytes()) with
            {
                Key = Pick(KeyMode.ValidBearer, KeyMode.ValidBearer, KeyMode.ValidBearer, KeyMode.Valid, KeyMode.BadBearer, KeyMode.Missing),
            });
        }
    }

    // ---------------------------------------------------------------- Files API and uploads

    /// <summary>
    /// Upload commands with hostile headers, offsets and bodies (against new and unknown sessions), multipart bodies with
    /// broken structure, and file names that try to leave their folder. Bodies are small: this is about parsing, not size.
    /// </summary>
    private void AddFileRequests(int count)
    {
        string[] protocols = ["resumable", "multipart", "raw", "media", "RESUMABLE", "ftp", "", " resumable "];
        string[] commands = ["start", "upload", "finalize", "upload, finalize", "query", "cancel", "start, upload", "upload,finalize", "", "explode", "query, cancel"];
        string[] lengths = ["11", "0", "-1", "abc", "99999999999999999999", "3000000000", "2147483648", "1e3", " 11", "11, 12"];
        string[] types = ["text/plain", "", "application/pdf", "image/png", "text/plain; charset=utf-8", "garbage", new string('x', 3000), "text/plain\tx"];
        string[] offsets = ["0", "-5", "11", "4", "x", "99999999999999999999", "", "0x10"];
        string[] ids = ["doesnotexist", "", "..%2F..%2Fetc", "%00", new string('u', 2000), "u-123", "%27%20OR%201%3D1%20--"];
        string[] names = ["files/abc", "abc", "files/../../etc/passwd", "files/%2e%2e", "files/" + new string('n', 300), "files/ABC_def", "files/%C3%A9", "files/a:download", "files/", "..", "files/abc/def"];
        var metadata = new[]
        {
            """{"file":{"displayName":"a.txt","mimeType":"text/plain"}}""", """{"file":{"name":"files/my-file-1","sizeBytes":"11"}}""",
            """{"file":{"name":"files/../x"}}""", """{"file":{"name":"files/UPPER"}}""", """{"file":{"displayName":7}}""", """{"file":null}""", "[]", "{", "",
            """{"file":{"name":"files/""" + new string('z', 100) + "\"}}", """{"file":{"sizeBytes":"-3"}}""", """{"file":{"mimeType":"image/png"}}""",
        };
        for (var i = 0; i < count; i++)
        {
            var v = Version();
            FuzzRequest request;
            switch (_rng.Next(6))
            {
                case 0:
                {
                    // Start a session, with any mix of the protocol headers.
                    var headers = new List<KeyValuePair<string, string>>();
                    if (_rng.Next(5) != 0) headers.Add(new("X-Goog-Upload-Protocol", Pick(protocols)));
                    if (_rng.Next(5) != 0) headers.Add(new("X-Goog-Upload-Command", Pick(commands)));
                    if (_rng.Next(3) != 0) headers.Add(new("X-Goog-Upload-Header-Content-Length", Pick(lengths)));
                    if (_rng.Next(3) != 0) headers.Add(new("X-Goog-Upload-Header-Content-Type", Pick(types)));
                    request = Post("upload start with odd headers", $"/upload/{v}/files", Utf8(Pick(metadata))) with { Headers = headers };
                    break;
                }
                case 1:
                {
                    // A command against a session that does not exist (or a malformed id).
                    var headers = new List<KeyValuePair<string, string>> { new("X-Goog-Upload-Command", Pick(commands)) };
                    if (_rng.Next(4) != 0) headers.Add(new("X-Goog-Upload-Offset", Pick(offsets)));
                    request = Post("upload command on an unknown session", $"/upload/{v}/files?upload_id={Pick(ids)}&upload_protocol=resumable",
                        Utf8("hello world")) with { Headers = headers, ContentType = "application/octet-stream" };
                    break;
                }
                case 2:
                {
                    // A one-request upload: raw bytes, or a multipart body that may be broken.
                    var boundary = "b" + _rng.Next(1000);
                    var body = _rng.Next(3) switch
                    {
                        0 => $"--{boundary}\r\nContent-Type: application/json\r\n\r\n{Pick(metadata)}\r\n--{boundary}\r\nContent-Type: text/plain\r\n\r\nhello\r\n--{boundary}--",
                        1 => $"--{boundary}\r\nContent-Type: application/json\r\n\r\n{Pick(metadata)}",
                        _ => $"--other\r\n\r\nhello\r\n--{boundary}--\r\n--{boundary}",
                    };
                    var raw = _rng.Next(2) == 0;
                    request = Post(raw ? "raw upload" : "multipart upload", $"/upload/{v}/files" + Pick("", "?uploadType=multipart", "?uploadType=media", "?uploadType=x"),
                        Utf8(raw ? "hello world" : body)) with
                    {
                        ContentType = raw ? Pick("text/plain", "image/png", "application/octet-stream", null!) : Pick($"multipart/related; boundary={boundary}", "multipart/related", $"multipart/form-data; boundary=\"{boundary}\"", "multipart/mixed; boundary="),
                        Headers = _rng.Next(2) == 0 ? [new("X-Goog-Upload-Protocol", raw ? "raw" : "multipart")] : [],
                    };
                    break;
                }
                case 3:
                    request = new FuzzRequest("get a file by an odd name", "GET", $"/{v}/{Pick(names)}" + Pick("", ":download", "?alt=media", ":download?alt=media", "?alt=json"));
                    break;
                case 4:
                    request = new FuzzRequest("delete a file by an odd name", "DELETE", $"/{v}/{Pick(names)}");
                    break;
                default:
                    request = new FuzzRequest("list files with odd paging", "GET",
                        $"/{v}/files?" + Pick("pageSize=-1", "pageSize=1000", "pageSize=abc", "pageToken=!!", "pageToken=" + new string('A', 500), "pageSize=0&pageToken=", "page_size=2", "pageSize=2147483648"));
                    break;
            }
            _requests.Add(request with { Key = Pick(KeyMode.Valid, KeyMode.Valid, KeyMode.Valid, KeyMode.Missing, KeyMode.Bad) });
        }
    }

    /// <summary>Applies one mutation somewhere in the tree and says what it did.</summary>
    private string Mutate(MutableJson doc)
    {
        var locations = doc.Locations();
        // The root is replaced rarely; the interesting cases are inside.
        var at = locations.Count > 1 && _rng.Next(20) != 0 ? locations[1 + _rng.Next(locations.Count - 1)] : locations[0];
        var roll = _rng.Next(100);
        return roll switch
        {
            < 18 => Delete(doc, at),
            < 40 => Retype(doc, at),
            < 66 => Extreme(doc, at),
            < 74 => Duplicate(doc, at) ?? Delete(doc, at),
            < 79 => Wrap(doc, at),
            < 85 => AddField(doc, at) ?? Retype(doc, at),
            < 90 => Repeat(doc, at) ?? Delete(doc, at),
            < 94 => Nest(doc, at),
            _ => Empty(doc, at),
        };
    }

    private static string Delete(MutableJson doc, MutableJson.Location at)
    {
        doc.Remove(at);
        return $"delete {at.Path}";
    }

    private string Retype(MutableJson doc, MutableJson.Location at)
    {
        var value = Retyped(at.Value);
        doc.Set(at, value);
        return $"retype {at.Path} → {Show(value)}";
    }

    private string Extreme(MutableJson doc, MutableJson.Location at)
    {
        var value = ExtremeValue();
        doc.Set(at, value);
        return $"extreme {at.Path} = {Show(value)}";
    }

    private string? Duplicate(MutableJson doc, MutableJson.Location at)
    {
        var target = at.Value as JsonObject ?? at.Parent as JsonObject;
        if (target is null || target.Count == 0) return null;
        var key = target.ElementAt(_rng.Next(target.Count)).Key;
        var value = _rng.Next(2) == 0 ? target[key]?.DeepClone() : ExtremeValue();
        doc.AddDuplicate(target, key, value);
        return $"duplicate key {key} = {Show(value)}";
    }

    private string Wrap(MutableJson doc, MutableJson.Location at)
    {
        var clone = at.Value?.DeepClone();
        JsonNode wrapped = _rng.Next(2) == 0 ? new JsonArray(clone) : new JsonObject { ["value"] = clone };
        doc.Set(at, wrapped);
        return $"wrap {at.Path} in {(wrapped is JsonArray ? "[]" : "{}")}";
    }

    private string? AddField(MutableJson doc, MutableJson.Location at)
    {
        var target = at.Value as JsonObject ?? at.Parent as JsonObject ?? doc.Root as JsonObject;
        if (target is null) return null;
        var key = Pick("foo", "", " ", "__proto__", "constructor", "$alt", "@type", "contents", "generation_config", "generationConfig",
            "system_instruction", "SYSTEMINSTRUCTION", "Contents", "model", "cachedContent", "tools", "toolConfig", "labels",
            new string('k', 5000), "κλειδί", "key\u0000nul", "\u202e", "text", "role", "parts");
        var value = _rng.Next(2) == 0 ? ExtremeValue() : RandomValue(_rng.Next(6));
        if (target.ContainsKey(key)) doc.AddDuplicate(target, key, value);
        else target[key] = value;
        return $"add field {Show(JsonValue.Create(key))} = {Show(value)}";
    }

    private string? Repeat(MutableJson doc, MutableJson.Location at)
    {
        // Capped near 2 MB: a body over the 20 MB limit is refused before it is parsed, which tests nothing new.
        const int Budget = 2_000_000;
        if (at.Value is JsonArray { Count: > 0 } array)
        {
            var element = array[_rng.Next(array.Count)];
            var size = Math.Max(1, Show(element, int.MaxValue).Length);
            var copies = Math.Max(1, Math.Min(Pick(2, 10, 100, 1000), Budget / size));
            for (var c = 0; c < copies; c++) array.Add(element?.DeepClone());
            return $"repeat an element of {at.Path} {copies}×";
        }
        if (at.Value is JsonValue v && v.GetValueKind() == JsonValueKind.String)
        {
            var text = v.GetValue<string>() + " ";
            var times = Math.Max(1, Math.Min(Pick(100, 1000, 10_000), Budget / text.Length));
            doc.Set(at, JsonValue.Create(string.Concat(Enumerable.Repeat(text, times))));
            return $"repeat the string at {at.Path} {times}×";
        }
        return null;
    }

    private string Nest(MutableJson doc, MutableJson.Location at)
    {
        var depth = Pick(10, 63, 64, 65, 66, 200, 10_000);
        var raw = _rng.Next(2) == 0 ? Nested('[', ']', depth, "1") : NestedObjects(depth);
        doc.Set(at, MutableJson.Raw(raw));
        return $"nest {at.Path} {depth} deep";
    }

    private string Empty(MutableJson doc, MutableJson.Location at)
    {
        JsonNode empty = _rng.Next(2) == 0 ? new JsonObject() : new JsonArray();
        doc.Set(at, empty);
        return $"empty {at.Path} = {empty.ToJsonString()}";
    }

    private static string Show(JsonNode? value, int max = 80)
    {
        var text = value is null ? "null" : Encoding.UTF8.GetString(new MutableJson(value.DeepClone()).ToBytes());
        return text.Length > max ? text[..60] + $"…({text.Length} chars)" : text;
    }

    /// <summary>A value of a different JSON type from <paramref name="current"/>: string ↔ number ↔ bool ↔ array ↔ object ↔ null.</summary>
    private JsonNode? Retyped(JsonNode? current)
    {
        var kind = current switch
        {
            null => 5,
            JsonObject => 4,
            JsonArray => 3,
            JsonValue v => v.GetValueKind() switch
            {
                JsonValueKind.String => 0,
                JsonValueKind.Number => 1,
                JsonValueKind.True or JsonValueKind.False => 2,
                _ => 5,
            },
            _ => 5,
        };
        var other = _rng.Next(5);
        if (other >= kind) other++;
        return RandomValue(other);
    }

    /// <summary>0 string, 1 number, 2 bool, 3 array, 4 object, 5 null.</summary>
    private JsonNode? RandomValue(int kind) => kind switch
    {
        0 => JsonValue.Create(Pick("x", "", "user", "model", "system", "function", "TEXT", "BLOCK_NONE", "HARM_CATEGORY_HARASSMENT",
            "text/plain", "application/json", "LOW", "1", "true", "null", "[]", "{}")),
        1 => MutableJson.Raw(Pick("0", "1", "-1", "7", "0.5", "100", "1e3")),
        2 => JsonValue.Create(_rng.Next(2) == 0),
        3 => _rng.Next(3) switch
        {
            0 => new JsonArray(),
            1 => new JsonArray(JsonValue.Create("x"), JsonValue.Create(1), null),
            _ => new JsonArray(new JsonObject { ["text"] = "hi" }),
        },
        4 => _rng.Next(3) switch
        {
            0 => new JsonObject(),
            1 => new JsonObject { ["text"] = "hi" },
            _ => new JsonObject { ["role"] = "user", ["parts"] = new JsonArray(new JsonObject { ["text"] = "hi" }) },
        },
        _ => null,
    };

    private static readonly string[] ExtremeNumbers =
    [
        "1e308", "-1e308", "1.7976931348623157e308", "1e309", "-1e309", "-1", "0", "-0", "0.0", "2147483647", "2147483648",
        "-2147483648", "-2147483649", "4294967296", "9223372036854775807", "9223372036854775808", "-9223372036854775809",
        "18446744073709551616", "1e-400", "5e-324", "0.5", "3.14159", "1E2", "1e+2", "100000000000000000000000000000000000000000",
        "0.000000000000000000000000000000000001", "2.0", "1.9999999999999999", "-2.0000000001",
    ];

    private static readonly string[] InvalidTokens =
    [
        "NaN", "-NaN", "Infinity", "-Infinity", "undefined", "True", "FALSE", "nul", "0x10", "01", "+1", ".5", "1.", "1e", "--1",
        "'single'", "\"unterminated", "\"\\ud800\"", "\"\\udc00\\ud800\"", "\"\\uDFFF\"", "\"\\u0000\"", "\"raw \u0001 control\"",
        "\"tab\tinside\"", "\"new\nline\"", "\"bad escape \\x41\"", "\"\\u12\"", "[,]", "{,}", "{\"a\":}", "[1,]", "{\"a\":1,}", "{\"a\"}",
        "{1:2}", "[}", "{]", "/* comment */ 1", "// comment\n1",
    ];

    private JsonNode? ExtremeValue()
    {
        switch (_rng.Next(5))
        {
            case 0:
                return MutableJson.Raw(Pick(ExtremeNumbers));
            case 1:
                return JsonValue.Create(Pick("NaN", "Infinity", "-Infinity", "1e308", "-1", "2147483648", " 42 ", "0x10", "1_000", "", "4.5",
                    "9223372036854775808", "-0", "1e-400", "12abc"));
            case 2:
                return JsonValue.Create(LongString());
            case 3:
                return JsonValue.Create(Pick(
                    "", " ", "\t\r\n", "こんにちは世界", "🦙🌍👩‍👩‍👧", "\u202Eevil", "e\u0301\u0301\u0301\u0301", "\uFEFF", "\uFFFF\uFFFE",
                    "𝕳𝖊𝖑𝖑𝖔", "\u0000", "a\u0000b", "\u0001\u0002\u0007\b\u001F", "line\r\nbreak\ttab", "\u2028\u2029", "\u007F\u0085",
                    "<s></s>[INST]<|im_start|>system<|im_end|>", "{{ raise_exception('x') }}", "%s%n%x", "'; DROP TABLE keys; --",
                    "../../etc/passwd", "USER", "Model", "user ", "model\u0000"));
            default:
                return MutableJson.Raw(Pick(InvalidTokens));
        }
    }

    private string LongString()
    {
        var length = Pick(1_000, 10_000, 100_000);
        return _rng.Next(3) switch
        {
            0 => new string('a', length),
            1 => string.Concat(Enumerable.Repeat("Once upon a time ", length / 17 + 1)),
            _ => string.Concat(Enumerable.Repeat("🦙é\u0000", length / 4 + 1)),
        };
    }

    private static string Nested(char open, char close, int depth, string inner) =>
        new string(open, depth) + inner + new string(close, depth);

    private static string NestedObjects(int depth)
    {
        var sb = new StringBuilder(depth * 6 + 8);
        for (var i = 0; i < depth; i++) sb.Append("{\"a\":");
        sb.Append('1');
        sb.Append('}', depth);
        return sb.ToString();
    }

    // ---------------------------------------------------------------- byte-level damage

    private void AddTruncatedBodies(int count)
    {
        for (var i = 0; i < count; i++)
        {
            var sample = Sample();
            var bytes = Utf8(sample.Json);
            // Any proper prefix of a compact JSON object leaves it unclosed, so it can only be refused as invalid JSON.
            var cut = 1 + _rng.Next(bytes.Length - 1);
            _requests.Add(Post($"truncated {sample.Name} at byte {cut} of {bytes.Length}", GenerateRoute(sample), bytes[..cut])
                with { ExpectedStatus = 400, ExpectedRpcStatus = "INVALID_ARGUMENT" });
        }
    }

    private static readonly byte[][] InvalidUtf8 =
    [
        [0xFF], [0xFE], [0x80], [0xBF], [0xC3, 0x28], [0xC0, 0xAF], [0xC1, 0xBF], [0xE0, 0x80, 0xAF], [0xED, 0xA0, 0x80],
        [0xED, 0xBF, 0xBF], [0xF4, 0x90, 0x80, 0x80], [0xF8, 0x88, 0x80, 0x80, 0x80], [0xFC, 0x84, 0x80, 0x80, 0x80, 0x80],
        [0xE2, 0x82], [0xC2], [0xF0, 0x9F, 0xA6], [0xF0, 0x9F, 0xA6, 0x99, 0x99],
    ];

    /// <summary>Invalid UTF-8 inside a string value the server reads (a text or role of the contents): always an invalid payload.</summary>
    private void AddInvalidUtf8(int count)
    {
        for (var i = 0; i < count; i++)
        {
            var sample = Sample();
            var json = sample.Json;
            // Inside contents, which every route reads; countTokens skips a top-level systemInstruction unread.
            var contents = json.IndexOf("\"contents\":", StringComparison.Ordinal);
            var field = Pick("\"text\":\"", "\"role\":\"");
            var at = json.IndexOf(field, contents, StringComparison.Ordinal);
            if (at < 0) at = json.IndexOf(field = "\"text\":\"", contents, StringComparison.Ordinal);
            var insertAt = at + field.Length + (_rng.Next(2) == 0 ? 0 : 1);
            var bad = Pick(InvalidUtf8);
            var bytes = Utf8(json[..insertAt]).Concat(bad).Concat(Utf8(json[insertAt..])).ToArray();
            _requests.Add(Post($"invalid UTF-8 {Convert.ToHexString(bad)} in a contents {field[1..5]} of {sample.Name}",
                GenerateRoute(sample), bytes) with { ExpectedStatus = 400, ExpectedRpcStatus = "INVALID_ARGUMENT" });
        }

        var latin1 = Encoding.Latin1.GetBytes("""{"contents":[{"role":"user","parts":[{"text":"café crème"}]}],"generationConfig":{"maxOutputTokens":4}}""");
        _requests.Add(Post("Latin-1 encoded body", $"/v1beta/models/{Model}:generateContent", latin1)
            with { ContentType = "application/json; charset=iso-8859-1", ExpectedStatus = 400, ExpectedRpcStatus = "INVALID_ARGUMENT" });
        var utf16 = Encoding.Unicode.GetPreamble().Concat(Encoding.Unicode.GetBytes(SdkBodies.Plain.Json)).ToArray();
        _requests.Add(Post("UTF-16LE body with BOM", $"/v1beta/models/{Model}:generateContent", utf16)
            with { ContentType = "application/json; charset=utf-16", ExpectedStatus = 400, ExpectedRpcStatus = "INVALID_ARGUMENT" });
        _requests.Add(Post("UTF-16BE body", $"/v1beta/models/{Model}:countTokens", Encoding.BigEndianUnicode.GetBytes(SdkBodies.Plain.Json))
            with { ContentType = "application/json; charset=utf-16be", ExpectedStatus = 400, ExpectedRpcStatus = "INVALID_ARGUMENT" });
        _requests.Add(Post("UTF-32 body", $"/v1beta/models/{Model}:generateContent", Encoding.UTF32.GetBytes(SdkBodies.Plain.Json))
            with { ExpectedStatus = 400, ExpectedRpcStatus = "INVALID_ARGUMENT" });
    }

    /// <summary>Random bytes flipped, inserted or deleted anywhere: no certain outcome, only the invariants.</summary>
    private void AddCorruptedBytes(int count)
    {
        for (var i = 0; i < count; i++)
        {
            var sample = Sample();
            var bytes = Utf8(sample.Json).ToList();
            var edits = 1 + _rng.Next(4);
            for (var e = 0; e < edits; e++)
            {
                var at = _rng.Next(bytes.Count);
                switch (_rng.Next(3))
                {
                    case 0: bytes[at] = (byte)_rng.Next(256); break;
                    case 1: bytes.Insert(at, (byte)_rng.Next(256)); break;
                    default: if (bytes.Count > 1) bytes.RemoveAt(at); break;
                }
            }
            _requests.Add(Post($"{edits} random byte edits to {sample.Name}", GenerateRoute(sample), [.. bytes]));
        }
        _requests.Add(Post("UTF-8 BOM before a valid body", $"/v1beta/models/{Model}:generateContent",
            [0xEF, 0xBB, 0xBF, .. Utf8(SdkBodies.Plain.Json)]));
        _requests.Add(Post("NUL bytes after a valid body", $"/v1beta/models/{Model}:generateContent", [.. Utf8(SdkBodies.Plain.Json), 0, 0, 0]));
    }

    // ---------------------------------------------------------------- nesting

    private void AddDeepNesting()
    {
        foreach (var depth in new[] { 65, 66, 100, 1_000, 10_000, 100_000 })
        {
            // Depths past the reader's 64 can only be refused; 65 is left to the invariants in case the limit counts from 0.
            var expect400 = depth > 65;
            void Add(string label, string path, string json) =>
                _requests.Add(Post($"{label}, {depth} deep", path, Utf8(json)) with
                {
                    ExpectedStatus = expect400 ? 400 : null,
                    ExpectedRpcStatus = expect400 ? "INVALID_ARGUMENT" : null,
                });

            Add("nested arrays as the body", $"/v1beta/models/{Model}:generateContent", Nested('[', ']', depth, ""));
            Add("nested objects as the body", $"/v1beta/models/{Model}:generateContent", NestedObjects(depth));
            Add("nested arrays in contents", $"/v1beta/models/{Model}:streamGenerateContent?alt=sse",
                "{\"contents\":" + Nested('[', ']', depth, "{\"parts\":[{\"text\":\"hi\"}]}") + "}");
            Add("nested arrays in tools", $"/v1beta/models/{Model}:generateContent",
                """{"contents":[{"parts":[{"text":"hi"}]}],"tools":""" + Nested('[', ']', depth, "{}") + "}");
            Add("nested objects in responseSchema", $"/v1beta/models/{Model}:generateContent",
                """{"contents":[{"parts":[{"text":"hi"}]}],"generationConfig":{"maxOutputTokens":2,"responseSchema":""" + NestedObjects(depth) + "}}");
            Add("nested objects in an unknown field", $"/v1beta/models/{Model}:countTokens",
                """{"contents":[{"parts":[{"text":"hi"}]}],"unknownField":""" + NestedObjects(depth) + "}");
            Add("unclosed arrays", $"/v1/models/{Model}:generateContent", new string('[', depth));
            Add("unclosed objects", $"/v1alpha/models/{Model}:countTokens", string.Concat(Enumerable.Repeat("{\"a\":", depth)));
        }
        foreach (var depth in new[] { 10, 32, 60 })
        {
            _requests.Add(Post($"nested arrays in tools, {depth} deep (within the limit)", $"/v1beta/models/{Model}:generateContent",
                Utf8("""{"contents":[{"parts":[{"text":"hi"}]}],"tools":""" + Nested('[', ']', depth, "{}") + "}")));
        }
    }

    // ---------------------------------------------------------------- whole bodies that are not requests

    private void AddOddBodies()
    {
        (string Body, int? Status)[] bodies =
        [
            ("", null), (" ", null), ("\r\n\t ", null), ("{}", null), ("null", 400), ("[]", 400), ("[{}]", 400), ("123", 400), ("-0.5e10", 400),
            ("\"a string\"", 400), ("true", 400), ("false", 400), ("{\"contents\":null}", null), ("{\"contents\":{}}", 400),
            ("{\"contents\":\"hello\"}", 400), ("{\"contents\":[\"hello\"]}", 400), ("{\"contents\":[null]}", 400), ("{\"contents\":[{}]}", 400),
            ("{\"contents\":[{\"parts\":null}]}", 400), ("{\"contents\":[{\"parts\":[null]}]}", 400), ("{\"contents\":[{\"parts\":[{}]}]}", 400),
            ("{\"contents\":[{\"parts\":[{\"text\":null}]}]}", 400), ("{\"contents\":[{\"parts\":[{\"text\":\"\"}]}]}", 400),
            ("{'contents':[]}", 400), ("/* comment */ {}", 400), ("{} // comment", 400), ("{\"contents\":[],}", 400), ("{} {}", 400),
            ("{}garbage", 400), ("{\"a\":1}\n{\"b\":2}\n", 400), ("<?xml version=\"1.0\"?><contents/>", 400), ("contents=hello&key=x", 400),
            ("\0\0\0\0", 400), ("{\"contents\":[{\"parts\":[{\"text\":\"hi\"}]}]}\0", 400), ("\u001b[31m{}", 400),
            ("{\"contents\":[{\"parts\":[{\"text\":\"hi\",\"inlineData\":{\"mimeType\":\"image/png\",\"data\":\"!!notbase64!!\"}}]}]}", 400),
            ("{\"contents\":[{\"parts\":[{\"inlineData\":{\"mimeType\":\"\",\"data\":\"" + new string('A', 100_000) + "\"}}]}]}", 400),
            ("{\"contents\":[{\"parts\":[{\"fileData\":{\"fileUri\":\"file:///etc/passwd\"}}]}]}", 400),
            ("{\"contents\":[{\"parts\":[{\"functionCall\":{\"name\":null,\"args\":[1,2]}}]}]}", 400),
        ];
        foreach (var (body, status) in bodies)
        {
            var route = _rng.Next(3) switch
            {
                0 => $"/{Version()}/models/{Model}:generateContent",
                1 => $"/{Version()}/models/{Model}:streamGenerateContent?alt=sse",
                _ => $"/{Version()}/models/{Model}:countTokens",
            };
            // countTokens takes an empty request (nothing to count) and contents without generation rules.
            var expected = route.EndsWith(":countTokens", StringComparison.Ordinal) ? null : status;
            _requests.Add(Post($"odd body {FuzzRequest.Preview(Utf8(body))[..Math.Min(60, body.Length + 2)]}", route, Utf8(body))
                with { ExpectedStatus = expected, ExpectedRpcStatus = expected is 400 ? "INVALID_ARGUMENT" : null });
        }
        for (var i = 0; i < 20; i++)
        {
            var noise = new byte[Pick(1, 8, 64, 4096)];
            _rng.NextBytes(noise);
            _requests.Add(Post($"{noise.Length} random bytes", $"/{Version()}/models/{Model}:generateContent", noise));
        }
    }

    // ---------------------------------------------------------------- headers and methods

    private void AddContentTypes()
    {
        string?[] types =
        [
            null, "", "text/plain", "text/plain; charset=utf-8", "application/x-www-form-urlencoded", "multipart/form-data; boundary=xyz",
            "application/json; charset=utf-8", "application/json; charset=latin1", "application/json; charset=utf-16", "APPLICATION/JSON",
            "application/xml", "application/octet-stream", "*/*", "application/json;;;", "garbage", "application/grpc", "application/x-protobuf",
            "text/event-stream", "application/json+protobuf", "image/png", "application/json; boundary=\"", "; ; ;", "\u00e9t\u00e9/json",
        ];
        foreach (var type in types)
        {
            for (var i = 0; i < 2; i++)
            {
                var sample = Sample();
                _requests.Add(Post($"content-type '{type ?? "(none)"}' with {sample.Name}", GenerateRoute(sample), Utf8(sample.Json)) with { ContentType = type });
            }
        }

        var json = SdkBodies.Plain.Json;
        var multipart = $"--xyz\r\nContent-Disposition: form-data; name=\"request\"\r\nContent-Type: application/json\r\n\r\n{json}\r\n--xyz--\r\n";
        _requests.Add(Post("multipart/form-data body", $"/v1beta/models/{Model}:generateContent", Utf8(multipart))
            with { ContentType = "multipart/form-data; boundary=xyz", ExpectedStatus = 400, ExpectedRpcStatus = "INVALID_ARGUMENT" });
        _requests.Add(Post("form-encoded body", $"/v1beta/models/{Model}:generateContent", Utf8("request=" + Uri.EscapeDataString(json)))
            with { ContentType = "application/x-www-form-urlencoded", ExpectedStatus = 400, ExpectedRpcStatus = "INVALID_ARGUMENT" });
        _requests.Add(Post("gzip content-encoding on a plain body", $"/v1beta/models/{Model}:generateContent", Utf8(json))
            with { Headers = [new("Content-Encoding", "gzip")] });
        _requests.Add(Post("Expect: 100-continue", $"/v1beta/models/{Model}:generateContent", Utf8(json))
            with { Headers = [new("Expect", "100-continue")] });
        _requests.Add(Post("Expect: something-else", $"/v1beta/models/{Model}:countTokens", Utf8(json))
            with { Headers = [new("Expect", "something-else")] });
        _requests.Add(Post("x-http-method-override: GET", $"/v1beta/models/{Model}:generateContent", Utf8(json))
            with { Headers = [new("X-HTTP-Method-Override", "GET")] });
        _requests.Add(Post("two x-goog-api-key headers", $"/v1beta/models/{Model}:generateContent", Utf8(json))
            with { Headers = [new("x-goog-api-key", FuzzClient.BadKey)] });
    }

    private void AddWrongMethods()
    {
        string[] postRoutes = [$"models/{Model}:generateContent", $"models/{Model}:streamGenerateContent?alt=sse", $"models/{Model}:countTokens"];
        string[] getRoutes = ["models", $"models/{Model}", "models/stories260k"];
        foreach (var version in new[] { "v1beta", "v1", "v1alpha" })
        {
            foreach (var route in postRoutes)
                foreach (var method in new[] { "GET", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "FOO" })
                    _requests.Add(new FuzzRequest($"{method} on a POST route", method, $"/{version}/{route}")
                    {
                        Body = method is "TRACE" || (method is "GET" or "OPTIONS" && _rng.Next(2) == 0) ? null : Utf8(SdkBodies.Plain.Json),
                        ExpectClientError = true,
                    });
            foreach (var route in getRoutes)
                foreach (var method in new[] { "POST", "PUT", "DELETE", "PATCH" })
                    _requests.Add(new FuzzRequest($"{method} on a GET route", method, $"/{version}/{route}")
                    {
                        Body = _rng.Next(2) == 0 ? null : Utf8(SdkBodies.Plain.Json),
                        ExpectClientError = true,
                    });
        }
    }

    // ---------------------------------------------------------------- names and paths

    private void AddOddModelNames()
    {
        string[] names =
        [
            "", "%20", "..", ".", "...", "%2E%2E", "..%2F..%2F..%2Fetc%2Fpasswd", "%2F", "%2F%2F", "models%2F" + Model, "models/models/" + Model,
            "models/models/models/x", "models/", "models", "tunedModels/x", Model + "/", Model + "//", "gemini%202.5%20flash", Model + "%20",
            "%20" + Model, "a:b", "a:b:c", Model + ":generateContent", ":", "::", "g%C3%A9mini", "%F0%9F%A6%99", "%E6%A8%A1%E5%9E%8B", "%E2%80%AE",
            "%EF%BB%BF", "%FF%FE", "%C0%AF", "%00", "a%00b", "%0D%0A", "%09", "%25", "%", "%zz", "~", "!$&'()*+,;=", "@", Model + ";param",
            new string('a', 1_000), new string('x', 4_000), "models/" + new string('m', 6_000), "STORIES260K", "Gemini-2.5-Flash",
            Model + "-001", "gemini-999", "embedding-001", "text-embedding-004", "aqa", "imagen-3.0-generate-002", "gemini-2.5-flash-image",
        ];
        string[] methods = ["generateContent", "generateContent", "streamGenerateContent?alt=sse", "countTokens"];
        string[] unknown =
        [
            "fooBar", "embedContent", "batchEmbedContents", "generatecontent", "GENERATECONTENT", "predict", "", "generateContent:",
            "generateContent/", "countTokens/extra", "streamGenerateContent?alt=foo", "generateContent%00", "generate%20Content",
        ];
        foreach (var name in names)
        {
            var nul = name.Contains("%00", StringComparison.Ordinal);
            _requests.Add(Post($"model name '{Short(name)}'", $"/{Version()}/models/{name}:{Pick(methods)}", Utf8(SdkBodies.Plain.Json))
                with { RejectedByHttpServer = nul });
            _requests.Add(new FuzzRequest($"GET model name '{Short(name)}'", "GET", $"/{Version()}/models/{name}") { RejectedByHttpServer = nul });
        }
        // Past Kestrel's 8 KB request line: refused by the HTTP server itself (414).
        _requests.Add(Post("model name of 10,000 characters", $"/v1beta/models/{new string('x', 10_000)}:generateContent", Utf8(SdkBodies.Plain.Json))
            with { RejectedByHttpServer = true, ExpectClientError = true });
        // Past Kestrel's 32 KB of request headers (431).
        _requests.Add(Post("40 KB request header", $"/v1beta/models/{Model}:generateContent", Utf8(SdkBodies.Plain.Json))
            with { Headers = [new("x-padding", new string('h', 40_000))], RejectedByHttpServer = true, ExpectClientError = true });
        foreach (var method in unknown)
        {
            _requests.Add(Post($"unknown method ':{method}'", $"/{Version()}/models/{Model}:{method}", Utf8(SdkBodies.Plain.Json)) with
            {
                ExpectClientError = !method.StartsWith("streamGenerateContent", StringComparison.Ordinal),
                RejectedByHttpServer = method.Contains("%00", StringComparison.Ordinal),
            });
        }
    }

    private static string Short(string s) => s.Length > 40 ? s[..20] + $"…({s.Length} chars)" : s;

    private void AddOddPaths()
    {
        string[] paths =
        [
            "/v1beta/models/", "/v1beta/models//", "/v1beta/models", "/v1beta/", "/v1beta", "/v1beta//models", "//v1beta/models/" + Model + ":generateContent",
            "/v1beta/models/../models/" + Model + ":generateContent", "/v1beta/../v1beta/models/" + Model + ":generateContent",
            "/v1beta/./models/" + Model + ":generateContent", "/v1beta/models/" + Model + ":generateContent/", "/v1beta/models/" + Model + ":generateContent/..",
            "/v2/models/" + Model + ":generateContent", "/v1beta1/models/" + Model + ":generateContent", "/V1BETA/models/" + Model + ":generateContent",
            "/v1Beta/models", "/V1/models", "/V1ALPHA/models/" + Model, "/v1beta/openai/chat/completions", "/upload/v1beta/files", "/v1beta/files",
            "/v1beta/cachedContents", "/v1beta/tunedModels", "/v1beta/models/" + Model + ":generateContent%3Fkey%3Dx", "/healthz", "/", "/favicon.ico",
            "/v1beta%2Fmodels", "/%76%31beta/models", "/v1beta/models/" + Model + "%3AgenerateContent", "/v1beta/models/%2E%2E/%2E%2E/healthz",
            "/v1beta/models/" + Model + ":generateContent;jsessionid=1", "/" + new string('p', 6_000), "/v1beta/" + string.Concat(Enumerable.Repeat("a/", 500)),
        ];
        foreach (var path in paths)
        {
            _requests.Add(new FuzzRequest($"GET path '{Short(path)}'", "GET", path));
            _requests.Add(Post($"POST path '{Short(path)}'", path, Utf8(SdkBodies.Plain.Json)));
        }
    }

    private void AddOddQueries()
    {
        var page = Convert.ToBase64String(Utf8("models:-1")).TrimEnd('=');
        var huge = Convert.ToBase64String(Utf8("models:99999999999")).TrimEnd('=');
        var max = Convert.ToBase64String(Utf8("models:2147483647")).TrimEnd('=');
        string[] listQueries =
        [
            "pageSize=-1", "pageSize=abc", "pageSize=0", "pageSize=99999999999", "pageSize=2147483647", "pageSize=1&pageSize=2", "pageToken=!!!",
            "pageToken=", $"pageToken={page}", $"pageToken={huge}", $"pageToken={max}", "page_size=1", "pageSize=%00", "pageToken=%FF",
            "pageSize=1e3", "pageSize=%201", "pageToken=" + new string('A', 4_000),
        ];
        foreach (var q in listQueries)
            _requests.Add(new FuzzRequest($"list models ?{Short(q)}", "GET", $"/{Version()}/models?{q}"));

        string[] generateQueries =
        [
            "alt=sse&alt=json", "alt=", "alt=SSE", "alt=media", "alt=proto", "$alt=sse", "alt=sse&key=", "%=1", "a=%FF", "fields=foo",
            "prettyPrint=false", "callback=x", "alt=sse&%00=%00", "key=" + CastorServerFixture.ApiKey + "&key=" + FuzzClient.BadKey,
        ];
        foreach (var q in generateQueries)
            _requests.Add(Post($"generate ?{q}", $"/{Version()}/models/{Model}:{Pick("generateContent", "streamGenerateContent")}?{q}", Utf8(SdkBodies.Plain.Json)));
    }

    // ---------------------------------------------------------------- keys

    private void AddKeyVariants()
    {
        (KeyMode Mode, int? Status, string? Rpc, string? Reason)[] modes =
        [
            (KeyMode.Missing, 403, "PERMISSION_DENIED", null), (KeyMode.Blank, 403, "PERMISSION_DENIED", null),
            (KeyMode.EmptyBearer, 403, "PERMISSION_DENIED", null), (KeyMode.Basic, 403, "PERMISSION_DENIED", null),
            (KeyMode.Bad, 400, "INVALID_ARGUMENT", "API_KEY_INVALID"), (KeyMode.LongBad, 400, "INVALID_ARGUMENT", "API_KEY_INVALID"),
            (KeyMode.BadQuery, 400, "INVALID_ARGUMENT", "API_KEY_INVALID"), (KeyMode.BadBearer, 400, "INVALID_ARGUMENT", "API_KEY_INVALID"),
            (KeyMode.NonAscii, 400, "INVALID_ARGUMENT", "API_KEY_INVALID"),
            (KeyMode.ValidQuery, null, null, null), (KeyMode.ValidBearer, null, null, null), (KeyMode.Padded, null, null, null),
        ];
        foreach (var (mode, status, rpc, reason) in modes)
        {
            for (var i = 0; i < 6; i++)
            {
                var v = Version();
                var request = _rng.Next(6) switch
                {
                    0 => new FuzzRequest("list models", "GET", $"/{v}/models"),
                    1 => new FuzzRequest("get a model", "GET", $"/{v}/models/{Model}"),
                    2 => new FuzzRequest("unknown path", "GET", $"/{v}/nothing/here"),
                    3 => Post("truncated body", $"/{v}/models/{Model}:generateContent", Utf8(SdkBodies.Plain.Json[..10])),
                    _ => Post("generate", GenerateRoute(SdkBodies.Plain), Utf8(SdkBodies.Plain.Json)),
                };
                // The key is checked first, before routing or the body, as Google's front end does.
                _requests.Add(request with
                {
                    Label = $"key {mode}: {request.Label}",
                    Key = mode,
                    ExpectedStatus = status,
                    ExpectedRpcStatus = rpc,
                    ExpectedReason = reason,
                });
            }
        }

        // Routing matches paths case-insensitively, so a key check that does not would be a way around it.
        foreach (var path in new[] { "/V1BETA/models", "/V1/models/" + Model, "/v1Alpha/models", "/V1beta/models/stories260k" })
            _requests.Add(new FuzzRequest($"no key, path case '{path}'", "GET", path) { Key = KeyMode.Missing, ExpectClientError = true });
        _requests.Add(Post("no key, path case '/V1BETA/…:generateContent'", $"/V1BETA/models/{Model}:generateContent", Utf8(SdkBodies.Plain.Json))
            with { Key = KeyMode.Missing, ExpectClientError = true });
        _requests.Add(Post("no key, path case '/v1BETA/…:countTokens'", $"/v1BETA/models/{Model}:countTokens", Utf8(SdkBodies.Plain.Json))
            with { Key = KeyMode.Missing, ExpectClientError = true });
    }

    // ---------------------------------------------------------------- size

    public static byte[] OversizedBody()
    {
        var head = Utf8("""{"contents":[{"role":"user","parts":[{"text":" """.TrimEnd());
        var tail = Utf8("\"}]}],\"generationConfig\":{\"maxOutputTokens\":4}}");
        var body = new byte[OversizedBytes];
        head.CopyTo(body, 0);
        body.AsSpan(head.Length, body.Length - head.Length - tail.Length).Fill((byte)'a');
        tail.CopyTo(body, body.Length - tail.Length);
        return body;
    }

    private void AddOversized()
    {
        var body = OversizedBody();
        _requests.Add(Post("21 MB body with Content-Length", $"/v1beta/models/{Model}:generateContent", body)
            with { ExpectedStatus = 400, ExpectedRpcStatus = "INVALID_ARGUMENT" });
        _requests.Add(Post("21 MB body, chunked", $"/v1beta/models/{Model}:countTokens", body)
            with { Chunked = true, ExpectedStatus = 400, ExpectedRpcStatus = "INVALID_ARGUMENT" });
    }
}
