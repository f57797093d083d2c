using Castor.Storage.Postgres;
using Npgsql;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace Castor.IntegrationTests.Storage;

/// <summary>
/// The PostgreSQL server the tests use: <c>CASTOR_TEST_POSTGRES</c> (a connection string; <c>scripts/postgres.sh start</c>
/// starts one, and <c>.ci/run</c> does so in CI). Each test gets its own schema, dropped afterwards.
/// Without a server, PostgreSQL tests are skipped locally and fail in CI (<c>CI=true</c>).
/// </summary>
public static class PostgresTestDatabase
{
    public static string? ConnectionString =>
        Environment.GetEnvironmentVariable("CASTOR_TEST_POSTGRES") is { Length: > 0 } value ? value : null;

    private static bool InCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>Why PostgreSQL tests are skipped here, or null when they run (a server is configured, or this is CI, where they must run).</summary>
    public static string? SkipReason => ConnectionString is null && !InCi
        ? "PostgreSQL tests need CASTOR_TEST_POSTGRES (run: eval \"$(bash scripts/postgres.sh start)\"); in CI (CI=true) they fail instead of skipping."
        : null;

    public static string RequireConnectionString() => ConnectionString ?? throw new InvalidOperationException(
        "CI=true but CASTOR_TEST_POSTGRES is not set: .ci/run must start PostgreSQL (scripts/postgres.sh) before the tests.");

    /// <summary>Creates an empty schema and returns a connection string whose search path is that schema.</summary>
    public static async Task<(string ConnectionString, string Schema)> CreateSchemaAsync()
    {
        var server = RequireConnectionString();
        var schema = "castor_test_" + Guid.NewGuid().ToString("N")[..12];
        await using (var connection = new NpgsqlConnection(server))
        {
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE SCHEMA {schema}", connection);
            await create.ExecuteNonQueryAsync();
        }
        return (new NpgsqlConnectionStringBuilder(server) { SearchPath = schema }.ToString(), schema);
    }

    public static async Task DropSchemaAsync(string schema)
    {
        await using var connection = new NpgsqlConnection(RequireConnectionString());
        await connection.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP SCHEMA IF EXISTS {schema} CASCADE", connection);
        await drop.ExecuteNonQueryAsync();
    }

    public static async Task<PostgresDatabase> OpenAsync(string connectionString)
    {
        var database = new PostgresDatabase(connectionString);
        await database.MigrateAsync();
        return database;
    }
}

/// <summary>Marks a test class that needs PostgreSQL: its <see cref="StorageFactAttribute"/> tests skip when <see cref="PostgresTestDatabase.SkipReason"/> says so.</summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class RequiresPostgresAttribute : Attribute;

/// <summary>A fact that runs once per concrete storage test class, skipped for PostgreSQL classes when no server is configured outside CI.</summary>
[XunitTestCaseDiscoverer("Castor.IntegrationTests.Storage.StorageFactDiscoverer", "Castor.IntegrationTests")]
[AttributeUsage(AttributeTargets.Method)]
public sealed class StorageFactAttribute : FactAttribute;

public sealed class StorageFactDiscoverer(IMessageSink diagnosticMessageSink) : IXunitTestCaseDiscoverer
{
    public IEnumerable<IXunitTestCase> Discover(ITestFrameworkDiscoveryOptions discoveryOptions, ITestMethod testMethod, IAttributeInfo factAttribute)
    {
        // The concrete class (not the abstract one declaring the method) decides which backend the test needs.
        var needsPostgres = testMethod.TestClass.Class.GetCustomAttributes(typeof(RequiresPostgresAttribute)).Any();
        var skip = needsPostgres ? PostgresTestDatabase.SkipReason : null;
        yield return new StorageTestCase(diagnosticMessageSink, discoveryOptions.MethodDisplayOrDefault(), discoveryOptions.MethodDisplayOptionsOrDefault(), testMethod, skip);
    }
}

public sealed class StorageTestCase : XunitTestCase
{
    private string? _skip;

    [Obsolete("Called by the de-serializer; should only be called by deriving classes for de-serialization purposes")]
    public StorageTestCase()
    {
    }

    public StorageTestCase(IMessageSink sink, TestMethodDisplay display, TestMethodDisplayOptions options, ITestMethod method, string? skip)
        : base(sink, display, options, method)
    {
        _skip = skip;
    }

    protected override string? GetSkipReason(IAttributeInfo factAttribute) => _skip ?? base.GetSkipReason(factAttribute);

    public override void Serialize(IXunitSerializationInfo data)
    {
        base.Serialize(data);
        data.AddValue("Skip", _skip);
    }

    public override void Deserialize(IXunitSerializationInfo data)
    {
        _skip = data.GetValue<string?>("Skip");
        base.Deserialize(data);
    }
}
