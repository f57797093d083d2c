using Castor.Application.Embeddings;
using Castor.Application.Models;
using Castor.Server;
using Microsoft.Extensions.DependencyInjection;

namespace Castor.IntegrationTests.Embeddings;

/// <summary>
/// A Castor with the stories260K generative model, the built-in MiniLM embedder, and the same GGUF configured a second
/// time as an embedding model (<see cref="GgufModel"/>, mean pooling, with task prompts). stories260K has no embedding
/// training, so its vectors test the GGUF path mechanically; quality is tested on MiniLM.
/// </summary>
public sealed class EmbeddingServerFixture : CastorServerFixture
{
    public const string GgufModel = "stories-embed";
    public const string GgufAlias = "story-embedder";
    public const string Builtin = "text-embedding-minilm";

    protected override CastorOptions CreateOptions()
    {
        var options = base.CreateOptions();
        // Bounds any generation a test starts by mistake.
        options.ContextSize = 128;
        options.ModelSettings[GgufModel] = new ModelSettings
        {
            Path = TestModels.Stories260K,
            Embedding = true,
            Pooling = "mean",
            ContextSize = 64,
            Aliases = [GgufAlias],
            TaskPrompts = new(StringComparer.OrdinalIgnoreCase)
            {
                ["RETRIEVAL_QUERY"] = "query: ",
                ["RETRIEVAL_DOCUMENT"] = "title: {title|none} | text: {text}",
            },
        };
        return options;
    }

    public EmbeddingModelEntry Model(string id) => App.Services.GetRequiredService<ModelCatalogue>().ResolveEmbedding(id);
}

[CollectionDefinition(Name)]
public sealed class EmbeddingCollection : ICollectionFixture<EmbeddingServerFixture>
{
    public const string Name = "castor-embeddings";
}
