using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;
using Xunit.Abstractions;

namespace Castor.IntegrationTests.Files;

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class AloneCollection
{
    public const string Name = "alone";
}

/// <summary>
/// A 256 MiB upload in one request must stream: the process allocates a small fraction of the body, where buffering
/// would allocate at least the body. Runs alone so no other test's allocations are counted. (A 2 GB upload takes the
/// same path with the same buffer; it is too slow for CI.)
/// </summary>
[Collection(AloneCollection.Name)]
public sealed class StreamingMemoryTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const long UploadBytes = 256L * 1024 * 1024;
    private readonly CastorServerFixture _server = new();

    public Task InitializeAsync() => _server.InitializeAsync();
    public Task DisposeAsync() => _server.DisposeAsync();

    [Fact]
    public async Task A_256_MiB_upload_streams_to_disk_without_buffering_the_body()
    {
        using var client = _server.CreateClient();
        var url = await Uploads.StartAsync(client, UploadBytes, "application/octet-stream");
        var source = new GeneratedStream(UploadBytes);

        GC.Collect();
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        using var request = new HttpRequestMessage(HttpMethod.Post, Uploads.PathOf(url)) { Content = new StreamContent(source, 64 * 1024) };
        request.Headers.Add("X-Goog-Upload-Command", "upload, finalize");
        request.Headers.Add("X-Goog-Upload-Offset", "0");
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        request.Content.Headers.ContentLength = UploadBytes;
        using var response = await client.SendAsync(request);
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;

        var body = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var file = JsonDocument.Parse(body).RootElement.GetProperty("file");
        Assert.Equal(UploadBytes.ToString(), file.GetProperty("sizeBytes").GetString());
        Assert.Equal(Convert.ToBase64String(source.Sha256()), file.GetProperty("sha256Hash").GetString());
        output.WriteLine($"Uploaded {UploadBytes / (1024 * 1024)} MiB; client and server together allocated {allocated / 1024.0 / 1024.0:0.0} MiB.");
        // Buffering the body would allocate at least its 256 MiB; streaming allocates pooled buffers and per-read bookkeeping.
        Assert.True(allocated < UploadBytes / 8, $"allocated {allocated} bytes for a {UploadBytes}-byte upload");
    }

    /// <summary>Deterministic bytes made on the fly (so the test itself holds no 256 MiB array), hashed as they are read.</summary>
    private sealed class GeneratedStream(long length) : Stream
    {
        private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        private long _position;
        private uint _state = 2463534242;

        public byte[] Sha256() => _hash.GetCurrentHash();

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var n = (int)Math.Min(buffer.Length, length - _position);
            for (var i = 0; i < n; i++)
            {
                _state ^= _state << 13;
                _state ^= _state >> 17;
                _state ^= _state << 5;
                buffer[i] = (byte)_state;
            }
            _hash.AppendData(buffer[..n]);
            _position += n;
            return n;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => ValueTask.FromResult(Read(buffer.Span));
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => length;
        public override long Position { get => _position; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
