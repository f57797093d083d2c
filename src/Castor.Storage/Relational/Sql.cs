using System.Data;
using System.Data.Common;
using System.Globalization;
using System.Reflection;

namespace Castor.Storage.Relational;

/// <summary>Small ADO.NET helpers shared by the SQLite and PostgreSQL stores (both accept <c>@name</c> parameters).</summary>
internal static class Sql
{
    public static DbCommand Command(DbConnection connection, DbTransaction? transaction, string text, params (string Name, object? Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = text;
        foreach (var (name, value) in parameters)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = name;
            // PostgreSQL cannot infer the type of a NULL parameter: a bare null is text, other types say so with TypedNull.
            switch (value)
            {
                case null:
                    parameter.Value = DBNull.Value;
                    parameter.DbType = DbType.String;
                    break;
                case TypedNull typed:
                    parameter.Value = DBNull.Value;
                    parameter.DbType = typed.Type;
                    break;
                default:
                    parameter.Value = value;
                    break;
            }
            command.Parameters.Add(parameter);
        }
        return command;
    }

    public static object Int64(long? value) => value is { } v ? v : new TypedNull(DbType.Int64);

    /// <summary>A timestamp as the dialect stores it: fixed-width ISO-8601 UTC text for SQLite, UTC timestamptz for PostgreSQL.</summary>
    public static object Time(this SqlDialect dialect, DateTimeOffset time) => dialect switch
    {
        SqlDialect.Sqlite => time.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture),
        _ => time.ToUniversalTime(),
    };

    public static object Time(this SqlDialect dialect, DateTimeOffset? time) => time is { } t ? dialect.Time(t) : DBNull.Value;

    public static DateTimeOffset ReadTime(this SqlDialect dialect, DbDataReader reader, int ordinal) => dialect switch
    {
        SqlDialect.Sqlite => DateTimeOffset.Parse(reader.GetString(ordinal), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal),
        _ => reader.GetFieldValue<DateTimeOffset>(ordinal),
    };

    public static DateTimeOffset? ReadNullableTime(this SqlDialect dialect, DbDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : dialect.ReadTime(reader, ordinal);

    public static string? ReadNullableString(this DbDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    /// <summary>Numbered scripts embedded under <paramref name="prefix"/> (<c>0001_name.sql</c>), in order.</summary>
    public static IEnumerable<(int Version, string Name, string Sql)> Migrations(Assembly assembly, string prefix)
    {
        foreach (var resource in assembly.GetManifestResourceNames().Where(r => r.StartsWith(prefix, StringComparison.Ordinal)).Order(StringComparer.Ordinal))
        {
            var name = resource[prefix.Length..];
            var version = int.Parse(name[..name.IndexOf('_')], CultureInfo.InvariantCulture);
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var reader = new StreamReader(stream);
            yield return (version, name, reader.ReadToEnd());
        }
    }
}

/// <summary>A NULL parameter of a given type.</summary>
internal sealed record TypedNull(DbType Type);
