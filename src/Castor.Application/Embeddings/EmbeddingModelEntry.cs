using Castor.Engine.Embedding;

namespace Castor.Application.Embeddings;

/// <summary>An embedding model as the server offers it: the engine's model and the task prompts it is used with.</summary>
public sealed record EmbeddingModelEntry(EmbeddingModel Model, TaskPrompts Prompts)
{
    public string Id => Model.Id;
    public EmbeddingModelInfo Info => Model.Info;
}
