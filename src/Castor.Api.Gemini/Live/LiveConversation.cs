using System.Text.Json;
using Castor.Api.Gemini.Apis;
using Castor.Api.Gemini.Wire;
using App = Castor.Application.Generation;

namespace Castor.Api.Gemini.Live;

/// <summary>
/// A session's conversation as the JSON a resumable session is stored with: the Gemini wire form of its contents (what
/// a client would send as <c>contents</c>), so it reads back through the same mapping as a request.
/// </summary>
internal static class LiveConversation
{
    public static string Serialize(IEnumerable<App.Content> conversation) =>
        JsonSerializer.Serialize(new GenerateContentRequest { Contents = conversation.Select(ToWire).ToList() }, GeminiJson.TypeInfo<GenerateContentRequest>());

    public static List<App.Content> Deserialize(string json) =>
        GeminiMapping.ToContents(JsonSerializer.Deserialize(json, GeminiJson.TypeInfo<GenerateContentRequest>())?.Contents, "contents").ToList();

    private static Content ToWire(App.Content content) => new()
    {
        Role = content.Role,
        Parts = content.Parts.Select(ToWire).OfType<Part>().ToList(),
    };

    private static Part? ToWire(App.Part part)
    {
        Part? wire = part switch
        {
            App.TextPart text => new Part { Text = text.Text, Thought = text.Thought ? true : null },
            App.InlineDataPart data => new Part { InlineData = new Blob { MimeType = data.MimeType, Data = data.Base64Data } },
            App.FileDataPart file => new Part { FileData = new FileData { MimeType = file.MimeType, FileUri = file.FileUri } },
            App.FunctionCallPart call => new Part { FunctionCall = new FunctionCall { Id = call.Id, Name = call.Name, Args = call.Args } },
            App.FunctionResponsePart response => new Part { FunctionResponse = new FunctionResponse { Id = response.Id, Name = response.Name, Response = response.Response } },
            // A session's conversation holds only what clients and the model send; other kinds were refused on the way in.
            _ => null,
        };
        if (wire is not null) wire.ThoughtSignature = part.ThoughtSignature;
        return wire;
    }
}
