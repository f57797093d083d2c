using Castor.Application.Files;
using Castor.Application.Media;
using Castor.Server;
using Microsoft.Extensions.Options;

namespace Castor.IntegrationTests;

/// <summary>A setting no layer can work with stops the start, and the message names the setting as it is configured.</summary>
public sealed class ConfigurationValidationTests
{
    public static TheoryData<string, Action<CastorOptions>> BadSettings => new()
    {
        { "Limits:RequestTimeout must not be negative", o => o.Limits = new LimitsOptions { RequestTimeout = TimeSpan.FromSeconds(-1) } },
        { "Limits:MaxConcurrentRequestsPerKey must not be negative", o => o.Limits = new LimitsOptions { MaxConcurrentRequestsPerKey = -1 } },
        { "Limits:GrammarStepTimeout must not be negative", o => o.Limits = new LimitsOptions { GrammarStepTimeout = TimeSpan.FromSeconds(-1) } },
        { "Parallel must not be negative", o => o.Parallel = -2 },
        { "MaxQueue must not be negative", o => o.MaxQueue = -1 },
        { "Files:MaxFileBytes must be positive", o => o.Files = new FileLimits { MaxFileBytes = 0 } },
        { "MaxEmbedBatchRequests must be at least 1", o => o.MaxEmbedBatchRequests = 0 },
        { "Media:MaxAudioSeconds must be positive", o => o.Media = new MediaLimits { MaxAudioSeconds = 0 } },
        { "Media:MaxImagePixels must be positive and at most Media:MaxImageDecodePixels", o => o.Media = new MediaLimits { MaxImagePixels = 5000L * 5000 } },
    };

    [Theory]
    [MemberData(nameof(BadSettings))]
    public async Task A_bad_setting_stops_the_start_naming_the_setting(string expected, Action<CastorOptions> configure)
    {
        var data = Path.Combine(Path.GetTempPath(), "castor-tests-" + Guid.NewGuid().ToString("N")[..8]);
        var options = new CastorOptions { Urls = "http://127.0.0.1:0", Models = [TestModels.Stories260K], Data = data, Threads = 2, BuiltinEmbeddingModel = false };
        configure(options);
        try
        {
            var error = await Assert.ThrowsAsync<OptionsValidationException>(() => CastorHost.BuildAsync(options));
            Assert.Contains(expected, error.Message);
        }
        finally
        {
            try { Directory.Delete(data, recursive: true); } catch (IOException) { }
        }
    }
}
