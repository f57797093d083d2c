using System.Globalization;
using Castor.Application.Errors;
using Castor.Application.Models;
using Castor.Application.Paging;
using Castor.Api.Gemini.Wire;
using Microsoft.AspNetCore.Http;

namespace Castor.Api.Gemini.Apis;

/// <summary><c>GET models</c> (paged) and <c>GET models/{model}</c>.</summary>
internal static class ModelsApi
{
    private const int DefaultPageSize = 50;
    private const int MaxPageSize = 1000;

    public static IResult List(HttpRequest request, ModelCatalogue catalogue)
    {
        var pageSize = DefaultPageSize;
        if (request.Query.TryGetValue("pageSize", out var sizeText) || request.Query.TryGetValue("page_size", out sizeText))
        {
            if (!int.TryParse(sizeText.ToString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out pageSize) || pageSize < 0)
                throw CastorException.InvalidField("pageSize", $"'{sizeText}' is not a valid page size; use a positive integer.");
            if (pageSize == 0) pageSize = DefaultPageSize;
            pageSize = Math.Min(pageSize, MaxPageSize);
        }

        var offset = 0;
        var token = request.Query["pageToken"].ToString();
        if (token.Length == 0) token = request.Query["page_token"].ToString();
        if (token.Length > 0) offset = DecodePageToken(token);

        var all = catalogue.List();
        var page = all.Skip(offset).Take(pageSize).Select(ToWire).ToList();
        var next = offset + page.Count;
        return Results.Json(new ListModelsResponse
        {
            Models = page,
            // Omitted, never "", on the last page: @google/genai's pager re-requests forever on an empty token.
            NextPageToken = next < all.Count ? EncodePageToken(next) : null,
        }, GeminiJson.TypeInfo<ListModelsResponse>());
    }

    public static IResult Get(string name, ModelCatalogue catalogue) =>
        Results.Json(ToWire(catalogue.Describe(name)), GeminiJson.TypeInfo<Model>());

    private static Model ToWire(ModelInfo m) => new()
    {
        Name = "models/" + m.Name,
        BaseModelId = m.BaseModelId,
        Version = m.Version,
        DisplayName = m.DisplayName,
        Description = m.Description,
        InputTokenLimit = m.InputTokenLimit,
        OutputTokenLimit = m.OutputTokenLimit,
        SupportedGenerationMethods = [.. m.SupportedGenerationMethods],
        Temperature = m.Temperature,
        MaxTemperature = m.MaxTemperature,
        TopP = m.TopP,
        TopK = m.TopK,
        Thinking = m.Thinking,
    };

    private static string EncodePageToken(int offset) => PageTokens.Encode("models:" + offset.ToString(CultureInfo.InvariantCulture));

    private static int DecodePageToken(string token) =>
        PageTokens.Decode(token) is { } text && text.StartsWith("models:", StringComparison.Ordinal) &&
        int.TryParse(text.AsSpan(7), NumberStyles.None, CultureInfo.InvariantCulture, out var offset)
            ? offset
            : throw PageTokens.Invalid();
}
