using Castor.Api.OpenAI.Wire;
using Castor.Application.Models;
using Microsoft.AspNetCore.Http;

namespace Castor.Api.OpenAI.Apis;

/// <summary><c>GET models</c> and <c>GET models/{id}</c>, with ids as the Gemini API's OpenAI endpoint writes them (<c>models/…</c>).</summary>
internal static class ModelsApi
{
    public static IResult List(ModelCatalogue catalogue) =>
        Results.Json(new ModelList { Data = catalogue.List().Select(ToWire).ToList() }, OpenAIJson.TypeInfo<ModelList>());

    /// <summary>The SDKs percent-encode the id (<c>models%2Fgemini-2.5-pro</c>); routing leaves %2F encoded, so decode here.</summary>
    public static IResult Get(string id, ModelCatalogue catalogue) =>
        Results.Json(ToWire(catalogue.Describe(Uri.UnescapeDataString(id))), OpenAIJson.TypeInfo<ModelObject>());

    private static ModelObject ToWire(ModelInfo m) => new() { Id = "models/" + m.Name, OwnedBy = "castor" };
}
