using System.Globalization;
using System.Text.Json;
using Castor.Api.Gemini.Live;
using Castor.Api.Gemini.Wire;
using Castor.Application.Keys;
using Microsoft.AspNetCore.Http;

namespace Castor.Api.Gemini.Apis;

/// <summary><c>POST auth_tokens</c>: an ephemeral token for Live sessions (<c>ai.authTokens.create</c>).</summary>
internal static class AuthTokensApi
{
    public static async Task<IResult> CreateAsync(HttpContext context, AuthTokenService tokens)
    {
        var wire = await RequestBody.ReadAsync(context.Request, GeminiJson.TypeInfo<AuthTokenResource>()).ConfigureAwait(false);
        // The mask must name setup fields the lock can apply; checked now, so a bad mask is a 400 here and not a refused session later.
        var mask = LiveSetupLock.ParseMask(wire.FieldMask);
        var setup = wire.BidiGenerateContentSetup is { } s ? JsonSerializer.Serialize(s, GeminiJson.TypeInfo<LiveSetup>()) : null;
        var token = await tokens.CreateAsync(context.Caller(),
            new NewAuthToken(wire.Uses, wire.ExpireTime, wire.NewSessionExpireTime, setup, mask.Count == 0 ? null : string.Join(',', mask)),
            context.RequestAborted).ConfigureAwait(false);
        return Results.Json(new AuthTokenResource
        {
            Name = token.Name,
            ExpireTime = Timestamp(token.ExpireTime),
            NewSessionExpireTime = Timestamp(token.NewSessionExpireTime),
            Uses = token.Uses,
        }, GeminiJson.TypeInfo<AuthTokenResource>());
    }

    private static string Timestamp(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
}
