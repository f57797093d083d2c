using Microsoft.Extensions.Configuration;
using System.Collections;
using Castor.Cli;

namespace Castor.UnitTests;

public sealed class OptionsLoaderTests
{
    [Fact]
    public void Castor_environment_variables_map_to_the_castor_section()
    {
        var map = OptionsLoader.FromEnvironment(new Hashtable
        {
            ["CASTOR_CONTEXT_SIZE"] = "4096",
            ["CASTOR_DATA"] = "/var/lib/castor",
            ["CASTOR_API_KEY"] = "k",
            ["CASTOR_ALIASES__FAST"] = "stories260k",
            ["CASTOR_MODELS"] = "/a:/b",
            ["CASTOR_TEST_MODELS"] = "/x",
            ["PATH"] = "/usr/bin",
        });
        Assert.Equal("4096", map["Castor:ContextSize"]);
        Assert.Equal("/var/lib/castor", map["Castor:Data"]);
        Assert.Equal("k", map["Castor:ApiKey"]);
        Assert.Equal("stories260k", map["Castor:Aliases:Fast"]);
        Assert.Equal(4, map.Count);
    }
}

public sealed class FlashAttentionSettingTests
{
    [Fact]
    public void Flash_attention_binds_from_the_environment_and_per_model_settings()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(OptionsLoader.FromEnvironment(new Hashtable
            {
                ["CASTOR_FLASH_ATTENTION"] = "on",
                ["CASTOR_MODEL_SETTINGS__TINY__FLASH_ATTENTION"] = "auto",
            }))
            .Build();
        var options = new Castor.Server.CastorOptions();
        Microsoft.Extensions.Configuration.ConfigurationBinder.Bind(configuration.GetSection("Castor"), options);
        Assert.Equal(Castor.Engine.Models.FlashAttentionMode.On, options.FlashAttention);
        Assert.Equal(Castor.Engine.Models.FlashAttentionMode.Auto, options.ModelSettings["tiny"].FlashAttention);
    }

    [Theory]
    [InlineData(null, 0, false)]   // unset on the CPU: off, measured faster (bench/README.md, "Long prompts")
    [InlineData(null, 99, null)]   // unset with a GPU: llama.cpp decides
    [InlineData(Castor.Engine.Models.FlashAttentionMode.Auto, 0, null)]
    [InlineData(Castor.Engine.Models.FlashAttentionMode.On, 0, true)]
    [InlineData(Castor.Engine.Models.FlashAttentionMode.Off, 99, false)]
    public void Unset_flash_attention_is_off_on_the_cpu_and_llama_cpp_s_choice_on_a_gpu(Castor.Engine.Models.FlashAttentionMode? mode, int gpuLayers, bool? expected) =>
        Assert.Equal(expected, Castor.Engine.Models.FlashAttention.Resolve(mode, gpuLayers));

    [Theory]
    [InlineData(0, false)]     // head size unknown: off
    [InlineData(8, false)]     // the test model: flash attention made prefill 2.7–3.5× slower
    [InlineData(32, false)]
    [InlineData(64, null)]     // the ~100 M bench model: 1.38× faster with it, so llama.cpp's auto
    [InlineData(128, null)]
    public void Unset_flash_attention_on_the_cpu_follows_the_head_size(int headSize, bool? expected) =>
        Assert.Equal(expected, Castor.Engine.Models.FlashAttention.Resolve(null, gpuLayers: 0, headSize));

    [Theory]
    [InlineData(2, 2, 1)]        // this project's 2-core machines: one decode thread, one core for the server
    [InlineData(8, 8, 7)]        // no SMT: leave one
    [InlineData(16, 8, 8)]       // SMT: one per physical core, the siblings take the server's work
    [InlineData(1, 1, 1)]        // never zero
    [InlineData(4, null, 3)]     // topology unknown (not Linux): one fewer than the logical processors
    [InlineData(3, 16, 2)]       // a container limited to 3 CPUs on a big machine: the limit decides
    public void Unset_decode_threads_leave_a_logical_processor_to_the_server(int logical, int? physical, int expected) =>
        Assert.Equal(expected, Castor.Engine.Models.CpuThreads.DefaultDecode(logical, physical));

    [Fact]
    public void Batch_threads_bind_from_the_environment()
    {
        var map = OptionsLoader.FromEnvironment(new Hashtable { ["CASTOR_THREADS"] = "3", ["CASTOR_BATCH_THREADS"] = "5" });
        var options = new Castor.Server.CastorOptions();
        new ConfigurationBuilder().AddInMemoryCollection(map).Build().GetSection(Castor.Server.CastorOptions.Section).Bind(options);
        Assert.Equal(3, options.Threads);
        Assert.Equal(5, options.BatchThreads);
    }

    [Fact]
    public void The_head_size_comes_from_the_key_length_or_the_embedding_per_head()
    {
        Assert.Equal(128, Castor.Engine.Models.FlashAttention.HeadSize(new Dictionary<string, string>
        {
            ["general.architecture"] = "qwen3", ["qwen3.attention.key_length"] = "128", ["qwen3.embedding_length"] = "1024", ["qwen3.attention.head_count"] = "16",
        }));
        Assert.Equal(8, Castor.Engine.Models.FlashAttention.HeadSize(new Dictionary<string, string>
        {
            ["general.architecture"] = "llama", ["llama.embedding_length"] = "64", ["llama.attention.head_count"] = "8",
        }));
        Assert.Equal(0, Castor.Engine.Models.FlashAttention.HeadSize(new Dictionary<string, string> { ["general.architecture"] = "llama" }));
        Assert.Equal(0, Castor.Engine.Models.FlashAttention.HeadSize(new Dictionary<string, string>()));
    }
}
