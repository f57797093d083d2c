using System.Globalization;
using Castor.Api.Gemini.Wire;
using Castor.Application.Caching;
using Microsoft.AspNetCore.Http;

namespace Castor.Api.Gemini.Apis;

/// <summary><c>POST cachedContents</c>, <c>GET cachedContents</c>, <c>GET|PATCH|DELETE cachedContents/{id}</c>.</summary>
internal static class CachedContentsApi
{
    public static async Task<IResult> CreateAsync(HttpContext context, ICachedContentService caches)
    {
        var wire = await RequestBody.ReadAsync(context.Request, GeminiJson.TypeInfo<CachedContentResource>()).ConfigureAwait(false);
        var request = new NewCachedContent
        {
            Model = wire.Model ?? "",
            Contents = GeminiMapping.ToContents(wire.Contents, "contents"),
            SystemInstruction = wire.SystemInstruction is null ? null : GeminiMapping.ToContent(wire.SystemInstruction, "systemInstruction"),
            Tools = GeminiMapping.ToFunctionDeclarations(wire.Tools),
            ToolChoice = GeminiMapping.ToToolChoice(wire.ToolConfig),
            DisplayName = wire.DisplayName,
            Ttl = wire.Ttl,
            ExpireTime = wire.ExpireTime,
        };
        var cache = await caches.CreateAsync(context.Caller(), request, context.RequestAborted).ConfigureAwait(false);
        return Json(cache);
    }

    public static async Task<IResult> ListAsync(HttpContext context, ICachedContentService caches)
    {
        var (pageSize, pageToken) = QueryParameters.Page(context.Request.Query, CachedContentService.MaxPageSize);
        var page = await caches.ListAsync(context.Caller(), pageSize, pageToken, context.RequestAborted).ConfigureAwait(false);
        return Results.Json(new ListCachedContentsResponse
        {
            CachedContents = page.CachedContents.Select(ToWire).ToList(),
            NextPageToken = page.NextPageToken,
        }, GeminiJson.TypeInfo<ListCachedContentsResponse>());
    }

    public static async Task<IResult> GetAsync(HttpContext context, string name, ICachedContentService caches) =>
        Json(await caches.GetAsync(context.Caller(), name, context.RequestAborted).ConfigureAwait(false));

    /// <summary>
    /// Only <c>ttl</c> or <c>expireTime</c> may change. <c>@google/genai</c> sends no <c>updateMask</c> (the body is just
    /// the new value); a mask, when sent, must name only those.
    /// </summary>
    public static async Task<IResult> UpdateAsync(HttpContext context, string name, ICachedContentService caches)
    {
        var wire = await RequestBody.ReadAsync(context.Request, GeminiJson.TypeInfo<CachedContentResource>()).ConfigureAwait(false);
        var others = new List<string>();
        if (wire.Model is not null) others.Add("model");
        if (wire.DisplayName is not null) others.Add("displayName");
        if (wire.Contents is not null) others.Add("contents");
        if (wire.SystemInstruction is not null) others.Add("systemInstruction");
        if (wire.Tools is not null) others.Add("tools");
        if (wire.ToolConfig is not null) others.Add("toolConfig");
        var update = new CachedContentUpdate
        {
            Ttl = wire.Ttl,
            ExpireTime = wire.ExpireTime,
            UpdateMask = QueryParameters.First(context.Request.Query, "updateMask", "update_mask"),
            OtherFields = others,
        };
        return Json(await caches.UpdateAsync(context.Caller(), name, update, context.RequestAborted).ConfigureAwait(false));
    }

    public static async Task<IResult> DeleteAsync(HttpContext context, string name, ICachedContentService caches)
    {
        await caches.DeleteAsync(context.Caller(), name, context.RequestAborted).ConfigureAwait(false);
        return Results.Json(new EmptyResponse(), GeminiJson.TypeInfo<EmptyResponse>());
    }

    private static IResult Json(CachedContent cache) => Results.Json(ToWire(cache), GeminiJson.TypeInfo<CachedContentResource>());

    public static CachedContentResource ToWire(CachedContent cache) => new()
    {
        Name = cache.Name,
        Model = cache.Model,
        DisplayName = cache.DisplayName,
        CreateTime = Timestamp(cache.CreateTime),
        UpdateTime = Timestamp(cache.UpdateTime),
        ExpireTime = Timestamp(cache.ExpireTime),
        UsageMetadata = new CachedContentUsageMetadata { TotalTokenCount = cache.TotalTokenCount },
    };

    private static string Timestamp(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

}
