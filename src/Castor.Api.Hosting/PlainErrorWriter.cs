using System.Text.Json;
using Castor.Application.Errors;

namespace Castor.Api.Hosting;

/// <summary>
/// <c>{"error":{"code","message","status"}}</c> with the canonical HTTP status: the shape for a host that set no default
/// writer. Castor's own host sets the Gemini adapter's.
/// </summary>
public sealed class PlainErrorWriter : IApiErrorWriter
{
    public static readonly PlainErrorWriter Instance = new();

    public int HttpStatus(CastorException error) => ErrorHttp.StatusCode(error.Status);

    public byte[] ToJson(CastorException error)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteStartObject("error");
            w.WriteNumber("code", HttpStatus(error));
            w.WriteString("message", error.Message);
            w.WriteString("status", ErrorHttp.StatusName(error.Status));
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return buffer.ToArray();
    }
}
