using System.Text;
using System.Text.Json.Nodes;
using Castor.Cli.Chatting;

namespace Castor.IntegrationTests.Chat;

/// <summary><c>castor chat</c>'s conversation against a real server, driven by lines as a person would type them.</summary>
[Collection(ServerCollection.Name)]
public sealed class ChatSessionTests(CastorServerFixture server)
{
    private HttpClient Client()
    {
        var http = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(180) };
        http.DefaultRequestHeaders.Add("x-goog-api-key", CastorServerFixture.ApiKey);
        return http;
    }

    [Fact]
    public async Task Each_turn_sends_the_history_and_the_system_instruction_and_reset_starts_over()
    {
        using var http = Client();
        var output = new StringWriter();
        var session = new ChatSession(http, "gemini-2.5-flash", new StringReader("Once upon a time\n/system Tell stories.\nThe end\n/reset\nHello\n/exit\nnever read\n"), output)
        {
            MaxOutputTokens = 8,
        };

        Assert.Equal(0, await session.RunAsync(CancellationToken.None));

        Assert.Equal(3, session.Sent.Count);
        var second = JsonNode.Parse(session.Sent[1])!;
        Assert.Equal(["user", "model", "user"], second["contents"]!.AsArray().Select(c => c!["role"]!.GetValue<string>()));
        Assert.Equal("Once upon a time", second["contents"]![0]!["parts"]![0]!["text"]!.GetValue<string>());
        Assert.Equal("Tell stories.", second["systemInstruction"]!["parts"]![0]!["text"]!.GetValue<string>());
        // What the model streamed is what the history carries, and what the terminal showed.
        var firstAnswer = second["contents"]![1]!["parts"]![0]!["text"]!.GetValue<string>();
        Assert.NotEmpty(firstAnswer);
        Assert.Contains(firstAnswer, output.ToString());
        var third = JsonNode.Parse(session.Sent[2])!;
        Assert.Single(third["contents"]!.AsArray());
        Assert.Contains("(conversation cleared)", output.ToString());
    }

    [Fact]
    public async Task Stopping_an_answer_keeps_the_conversation_going()
    {
        using var http = Client();
        ChatSession? session = null;
        // Ctrl+C arrives while the first words of the answer are on screen.
        var output = new CallbackWriter(() => session!.StopAnswer());
        session = new ChatSession(http, "gemini-2.5-flash", new StringReader("Once upon a time\nAnd then\n/exit\n"), output);

        Assert.Equal(0, await session.RunAsync(CancellationToken.None));

        Assert.Equal(2, session.Sent.Count);
        Assert.Contains("[stopped]", output.ToString());
        var second = JsonNode.Parse(session.Sent[1])!;
        Assert.Equal(["user", "model", "user"], second["contents"]!.AsArray().Select(c => c!["role"]!.GetValue<string>()));
    }

    /// <summary>Records output and calls back on every write, as a terminal's Ctrl+C may come at any moment.</summary>
    private sealed class CallbackWriter(Func<bool> onWrite) : StringWriter
    {
        public override void Write(string? value)
        {
            base.Write(value);
            onWrite();
        }

        public override Encoding Encoding => Encoding.UTF8;
    }
}
