namespace Castor.Application.Batches;

/// <summary>How <see cref="BatchKind"/> is stored: the method name each request calls.</summary>
internal static class BatchKinds
{
    public static string Name(BatchKind kind) => kind == BatchKind.EmbedContent ? "embedContent" : "generateContent";

    public static BatchKind Parse(string name) => name == "embedContent" ? BatchKind.EmbedContent : BatchKind.GenerateContent;
}
