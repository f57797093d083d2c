using System.Collections;
using System.Text;
using Castor.Server;
using Microsoft.Extensions.Configuration;

namespace Castor.Cli;

/// <summary>
/// Builds <see cref="CastorOptions"/> from, in rising precedence: appsettings.json beside the executable,
/// castor.json in the working directory (or --config), CASTOR_* environment variables, then flags.
/// </summary>
internal static class OptionsLoader
{
    public static CastorOptions Load(string? configFile)
    {
        var builder = new ConfigurationBuilder()
            .AddJsonFile(Path.Combine(AppContext.BaseDirectory, "appsettings.json"), optional: true)
            .AddJsonFile(Path.GetFullPath("castor.json"), optional: true);
        if (configFile is not null)
        {
            if (!File.Exists(configFile))
                throw new FileNotFoundException($"The configuration file '{configFile}' does not exist.");
            builder.AddJsonFile(Path.GetFullPath(configFile), optional: false);
        }
        builder.AddInMemoryCollection(FromEnvironment(Environment.GetEnvironmentVariables()));
        var configuration = builder.Build();

        var options = new CastorOptions();
        configuration.GetSection(CastorOptions.Section).Bind(options);

        // Lists replace rather than merge, so CASTOR_MODELS is applied here instead of through configuration.
        if (Environment.GetEnvironmentVariable("CASTOR_MODELS") is { Length: > 0 } models)
            options.Models = models.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
        return options;
    }

    /// <summary>
    /// CASTOR_CONTEXT_SIZE → Castor:ContextSize, CASTOR_ALIASES__FAST → Castor:Aliases:Fast: each "__" is a level,
    /// and words joined by "_" become PascalCase. CASTOR_MODELS is a path list (':'-separated on Unix).
    /// </summary>
    internal static Dictionary<string, string?> FromEnvironment(IDictionary environment)
    {
        var map = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (DictionaryEntry entry in environment)
        {
            if (entry.Key is not string name || !name.StartsWith("CASTOR_", StringComparison.Ordinal)) continue;
            var rest = name["CASTOR_".Length..];
            if (rest is "MODELS" or "" || rest.StartsWith("TEST_", StringComparison.Ordinal)) continue;
            var key = CastorOptions.Section + ":" + string.Join(":", rest.Split("__").Select(Pascal));
            map[key] = entry.Value as string;
        }
        return map;
    }

    private static string Pascal(string segment)
    {
        var sb = new StringBuilder(segment.Length);
        foreach (var word in segment.Split('_', StringSplitOptions.RemoveEmptyEntries))
            sb.Append(char.ToUpperInvariant(word[0])).Append(word[1..].ToLowerInvariant());
        return sb.ToString();
    }
}
