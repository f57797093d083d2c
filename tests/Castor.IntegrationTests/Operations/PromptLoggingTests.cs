using Castor.Application.Keys;
using Castor.IntegrationTests.Limits;
using Castor.Server;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Castor.IntegrationTests.Operations;

/// <summary>A server with Logging:Prompts on, its log lines captured.</summary>
public sealed class PromptLoggingServerFixture : CastorServerFixture
{
    public CapturedLog Log { get; } = new();

    protected override CastorOptions CreateOptions()
    {
        var options = base.CreateOptions();
        options.Logging.Prompts = true;
        return options;
    }

    protected override void ConfigureLogging(ILoggingBuilder logging) => logging.AddProvider(Log);
}

/// <summary>
/// Logging:Prompts on: the request's log line ends with the prompt's last text, on both dialects (off, the default, it
/// never does: OperationsTests' log line test). Still never a key.
/// </summary>
public sealed class PromptLoggingTests(PromptLoggingServerFixture server) : IClassFixture<PromptLoggingServerFixture>
{
    private const string RequestLog = "Castor.Api.Hosting.RequestLogMiddleware";

    [Fact]
    public async Task With_prompts_on_the_request_log_line_carries_the_last_prompt_text()
    {
        var project = (await server.App.Services.GetRequiredService<ApiKeyService>().AuthenticateAsync(CastorServerFixture.ApiKey)).ProjectId;
        using var client = server.CreateClient();
        var (status, _) = await client.PostAsync("/v1beta/models/stories260k:generateContent",
            """{"contents":[{"role":"user","parts":[{"text":"An earlier turn"}]},{"role":"model","parts":[{"text":"A reply"}]},{"role":"user","parts":[{"text":"The quokkacanary\nsat"}]}],"generationConfig":{"maxOutputTokens":3}}""");
        Assert.Equal(200, status);
        var (chat, _) = await client.PostAsync("/v1beta/openai/chat/completions",
            """{"model":"stories260k","max_tokens":3,"messages":[{"role":"system","content":"Be brief"},{"role":"user","content":"The wombatcanary ran"}]}""");
        Assert.Equal(200, chat);

        // The line is written when the request ends, which may be just after the client has read the answer.
        var generate = await LineAsync(l => l.StartsWith("generateContent ", StringComparison.Ordinal) && l.Contains("quokkacanary", StringComparison.Ordinal));
        Assert.Contains($"project={project}", generate);
        Assert.Contains("status=200", generate);
        // The last content's text, on one line; not the earlier turns.
        Assert.EndsWith("prompt=The quokkacanary sat", generate);
        Assert.DoesNotContain("An earlier turn", generate);
        var completion = await LineAsync(l => l.Contains("wombatcanary", StringComparison.Ordinal));
        Assert.EndsWith("prompt=The wombatcanary ran", completion);
        Assert.All(server.Log.Lines, l => Assert.DoesNotContain(CastorServerFixture.ApiKey, l.Message));
    }

    private async Task<string> LineAsync(Func<string, bool> match)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (true)
        {
            var line = server.Log.Lines.FirstOrDefault(l => l.Category == RequestLog && match(l.Message));
            if (line.Message is not null) return line.Message;
            await Task.Delay(20, timeout.Token);
        }
    }
}
