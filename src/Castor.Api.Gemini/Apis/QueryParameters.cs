using System.Globalization;
using Castor.Application.Errors;
using Microsoft.AspNetCore.Http;

namespace Castor.Api.Gemini.Apis;

/// <summary>
/// Query parameters as the API's clients send them: camelCase or snake_case (<c>pageSize</c> / <c>page_size</c>), an
/// empty value counting as absent.
/// </summary>
internal static class QueryParameters
{
    /// <summary>The first of <paramref name="names"/> given a non-empty value.</summary>
    public static string? First(IQueryCollection query, params string[] names)
    {
        foreach (var name in names)
            if (query.TryGetValue(name, out var value) && value.ToString().Length > 0)
                return value.ToString();
        return null;
    }

    /// <summary>
    /// A list call's <c>pageSize</c> and <c>pageToken</c>. Only the size's syntax is checked here; its range
    /// (1 to <paramref name="maxPageSize"/>) is the service's rule.
    /// </summary>
    public static (int? PageSize, string? PageToken) Page(IQueryCollection query, int maxPageSize)
    {
        int? pageSize = null;
        if (First(query, "pageSize", "page_size") is { } sizeText)
        {
            if (!int.TryParse(sizeText, NumberStyles.Integer, CultureInfo.InvariantCulture, out var size))
                throw CastorException.InvalidField("pageSize", $"'{sizeText}' is not a valid page size; use 1 to {maxPageSize}.");
            pageSize = size;
        }
        return (pageSize, First(query, "pageToken", "page_token"));
    }
}
