using System.IO.Compression;
using System.Text;
using UglyToad.PdfPig;
using UglyToad.PdfPig.Filters;
using UglyToad.PdfPig.Tokens;

namespace Castor.Application.Files;

/// <summary>What one PDF may cost to read: pages, bytes its compressed streams decode to, characters of text.</summary>
public sealed record PdfLimits(int MaxPages, long MaxDecodedBytes, long MaxChars);

/// <summary>
/// A PDF's text, page by page, through PdfPig (pure .NET, streams pages; no rendering, so scanned pages yield nothing),
/// bounded before any work grows: the page count is checked before a page is parsed, every stream decode is charged to
/// a per-document budget (deflate streams are measured by inflating into nothing before PdfPig decodes them, so a
/// 300 KB stream that inflates to 300 MB is refused without being held in memory), and text stops at a character cap.
/// </summary>
public static class PdfText
{
    /// <summary>
    /// The text of every page, each under a <c>[Page n]</c> heading so the model can refer to pages. Throws
    /// <see cref="InvalidDataException"/> when the bytes are not a readable PDF or pass a limit (the message names it).
    /// </summary>
    public static string Extract(Stream pdf, PdfLimits limits)
    {
        var budget = new DecodeBudget(limits.MaxDecodedBytes);
        try
        {
            using var document = PdfDocument.Open(pdf, new ParsingOptions { UseLenientParsing = true, FilterProvider = new BudgetFilterProvider(budget) });
            if (document.NumberOfPages > limits.MaxPages)
                throw new InvalidDataException($"the PDF has {document.NumberOfPages} pages; PDFs of at most {limits.MaxPages} pages can be read.");
            var text = new StringBuilder();
            for (var number = 1; number <= document.NumberOfPages; number++)
            {
                var page = document.GetPage(number);
                budget.ThrowIfExceeded();
                if (text.Length > 0) text.Append("\n\n");
                text.Append("[Page ").Append(page.Number).Append("]\n");
                text.Append(page.Text.Trim());
                if (text.Length > limits.MaxChars)
                    throw new InvalidDataException($"the PDF holds more than {limits.MaxChars} characters of text, more than a prompt can use.");
            }
            budget.ThrowIfExceeded();
            return text.ToString();
        }
        catch (InvalidDataException)
        {
            throw;
        }
        catch (Exception ex) when (ex is not OperationCanceledException and not OutOfMemoryException)
        {
            // Lenient parsing may wrap (or swallow) the budget's exception: the budget itself says what happened.
            budget.ThrowIfExceeded();
            // PdfPig reports malformed files with a range of exception types.
            throw new InvalidDataException("the file is not a readable PDF: " + ex.Message, ex);
        }
    }


    /// <summary>Decoded bytes of one document so far; once past the limit, every later decode fails too.</summary>
    private sealed class DecodeBudget(long limit)
    {
        private long _used;

        public bool Exceeded { get; private set; }

        public long Remaining => Math.Max(0, limit - _used);

        public void Charge(long bytes)
        {
            _used += bytes;
            if (_used > limit) Fail();
        }

        public void ThrowIfExceeded()
        {
            if (Exceeded) throw Error();
        }

        public Exception Fail()
        {
            Exceeded = true;
            throw Error();
        }

        private InvalidDataException Error() =>
            new($"the PDF's compressed streams decode to more than {limit} bytes, more than this server reads from one PDF.");
    }

    /// <summary>PdfPig's own filters, each wrapped to charge the budget.</summary>
    private sealed class BudgetFilterProvider(DecodeBudget budget) : IFilterProvider
    {
        private readonly IFilterProvider _inner = DefaultFilterProvider.Instance;

        public IReadOnlyList<IFilter> GetFilters(DictionaryToken dictionary) => Wrap(_inner.GetFilters(dictionary));

        public IReadOnlyList<IFilter> GetNamedFilters(IReadOnlyList<NameToken> names) => Wrap(_inner.GetNamedFilters(names));

        public IReadOnlyList<IFilter> GetAllFilters() => Wrap(_inner.GetAllFilters());

        private IReadOnlyList<IFilter> Wrap(IReadOnlyList<IFilter> filters) => filters.Select(f => (IFilter)new BudgetFilter(f, budget)).ToList();
    }

    private sealed class BudgetFilter(IFilter inner, DecodeBudget budget) : IFilter
    {
        private const int MeasureBufferBytes = 64 * 1024;

        public bool IsSupported => inner.IsSupported;

        public Memory<byte> Decode(Memory<byte> input, DictionaryToken streamDictionary, IFilterProvider filterProvider, int filterIndex)
        {
            budget.ThrowIfExceeded();
            // Deflate is where bombs live (~1000:1): measure the output before PdfPig materialises it in one array.
            if (inner is FlateFilter && Inflated(input, budget.Remaining + 1) > budget.Remaining)
                throw budget.Fail();
            var output = inner.Decode(input, streamDictionary, filterProvider, filterIndex);
            budget.Charge(output.Length);
            return output;
        }

        /// <summary>How many bytes the zlib data inflates to, counted into a reused buffer and stopping at <paramref name="stopAt"/>.</summary>
        private static long Inflated(Memory<byte> input, long stopAt)
        {
            var total = 0L;
            var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(MeasureBufferBytes);
            try
            {
                // PdfPig skips the two zlib header bytes and inflates the rest; so does this (a bad header is no defence).
                if (input.Length < 2) return 0;
                using var source = new ReadOnlyMemoryStream(input[2..]);
                using var inflate = new DeflateStream(source, CompressionMode.Decompress);
                int read;
                while (total <= stopAt && (read = inflate.Read(buffer, 0, buffer.Length)) > 0)
                    total += read;
            }
            catch (InvalidDataException)
            {
                // Corrupt data: PdfPig decodes what it can, which is no more than was counted here.
            }
            finally
            {
                System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
            }
            return total;
        }
    }

    private sealed class ReadOnlyMemoryStream(ReadOnlyMemory<byte> memory) : Stream
    {
        private int _position;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => memory.Length;
        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var count = Math.Min(buffer.Length, memory.Length - _position);
            memory.Span.Slice(_position, count).CopyTo(buffer);
            _position += count;
            return count;
        }

        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
