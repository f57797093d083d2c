using System.Text.Json;
using Castor.Api.Gemini.Live;
using App = Castor.Application.Generation;

namespace Castor.UnitTests.Live;

/// <summary>A resumable session's conversation survives the round trip through its stored JSON, every part kind a session holds.</summary>
public sealed class LiveConversationTests
{
    [Fact]
    public void Text_thoughts_media_function_calls_and_responses_round_trip()
    {
        var args = JsonDocument.Parse("""{"zone":"UTC"}""").RootElement;
        var response = JsonDocument.Parse("""{"time":"12:00"}""").RootElement;
        App.Content[] conversation =
        [
            new(App.Content.UserRole, [new App.TextPart("What time is it?"), new App.InlineDataPart("image/png", "iVBORw0KGgo="),
                new App.FileDataPart("application/pdf", "https://example.test/files/abc")]),
            new(App.Content.ModelRole, [new App.TextPart("Let me check.") { Thought = true, ThoughtSignature = "sig" },
                new App.FunctionCallPart("get_time", args, "call_1")]),
            new(App.Content.UserRole, [new App.FunctionResponsePart("get_time", response, "call_1")]),
            new(App.Content.ModelRole, [new App.TextPart("It is noon.")]),
        ];

        var back = LiveConversation.Deserialize(LiveConversation.Serialize(conversation));

        Assert.Equal(conversation.Select(c => c.Role), back.Select(c => c.Role));
        Assert.Equal(Describe(conversation), Describe(back));
    }

    /// <summary>Parts as comparable text (JSON arguments compare by their text, records holding JsonElement do not).</summary>
    private static List<string> Describe(IEnumerable<App.Content> conversation) => conversation.SelectMany(c => c.Parts).Select(p => p switch
    {
        App.TextPart t => $"text {t.Text} thought={t.Thought} sig={t.ThoughtSignature}",
        App.InlineDataPart d => $"inline {d.MimeType} {d.Base64Data}",
        App.FileDataPart f => $"file {f.MimeType} {f.FileUri}",
        App.FunctionCallPart call => $"call {call.Id} {call.Name} {call.Args?.GetRawText()}",
        App.FunctionResponsePart r => $"response {r.Id} {r.Name} {r.Response?.GetRawText()}",
        _ => p.GetType().Name,
    }).ToList();
}
