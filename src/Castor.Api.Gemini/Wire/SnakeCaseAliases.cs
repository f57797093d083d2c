using System.Text;
using System.Text.Json.Serialization.Metadata;

namespace Castor.Api.Gemini.Wire;

/// <summary>
/// The API accepts each field under its proto name too (<c>generation_config</c> as well as <c>generationConfig</c>),
/// and the Python SDK and curl examples send those. This adds a read-only snake_case twin for every property;
/// only declared properties get one, so keys inside free-form JSON (schemas, args) are never renamed.
/// </summary>
internal static class SnakeCaseAliases
{
    public static void Add(JsonTypeInfo typeInfo)
    {
        if (typeInfo.Kind != JsonTypeInfoKind.Object) return;
        var existing = typeInfo.Properties.Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var property in typeInfo.Properties.ToList())
        {
            var snake = ToSnakeCase(property.Name);
            // The extension data property holds unknown names as sent; it has no name of its own to alias.
            if (property.IsExtensionData || snake == property.Name || !existing.Add(snake) || property.Set is null) continue;
            var alias = typeInfo.CreateJsonPropertyInfo(property.PropertyType, snake);
            alias.Set = property.Set;
            alias.Get = null;
            alias.NumberHandling = property.NumberHandling;
            alias.CustomConverter = property.CustomConverter;
            typeInfo.Properties.Add(alias);
        }
    }

    internal static string ToSnakeCase(string camel)
    {
        var sb = new StringBuilder(camel.Length + 4);
        foreach (var c in camel)
        {
            if (char.IsUpper(c))
            {
                if (sb.Length > 0) sb.Append('_');
                sb.Append(char.ToLowerInvariant(c));
            }
            else sb.Append(c);
        }
        return sb.ToString();
    }
}
