using System.IO.Compression;
using System.Text;

namespace Castor.IntegrationTests.Files;

/// <summary>Writes a small, valid PDF (one text line per page, Helvetica) with a correct cross-reference table.</summary>
public static class TestPdf
{
    public static byte[] Create(params string[] pages)
    {
        var objects = new List<string>
        {
            "<< /Type /Catalog /Pages 2 0 R >>",
            $"<< /Type /Pages /Kids [{string.Join(" ", pages.Select((_, i) => $"{4 + 2 * i} 0 R"))}] /Count {pages.Length} >>",
            "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        };
        foreach (var text in pages)
        {
            var page = objects.Count + 1;
            var stream = $"BT /F1 18 Tf 72 720 Td ({text.Replace("\\", "\\\\").Replace("(", "\\(").Replace(")", "\\)")}) Tj ET";
            objects.Add($"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> /Contents {page + 1} 0 R >>");
            objects.Add($"<< /Length {Encoding.ASCII.GetByteCount(stream)} >>\nstream\n{stream}\nendstream");
        }

        var pdf = new StringBuilder("%PDF-1.4\n");
        var offsets = new List<int>();
        for (var i = 0; i < objects.Count; i++)
        {
            offsets.Add(Encoding.ASCII.GetByteCount(pdf.ToString()));
            pdf.Append($"{i + 1} 0 obj\n{objects[i]}\nendobj\n");
        }
        var xref = Encoding.ASCII.GetByteCount(pdf.ToString());
        pdf.Append($"xref\n0 {objects.Count + 1}\n0000000000 65535 f \n");
        foreach (var offset in offsets) pdf.Append($"{offset:D10} 00000 n \n");
        pdf.Append($"trailer\n<< /Size {objects.Count + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n");
        return Encoding.ASCII.GetBytes(pdf.ToString());
    }

    /// <summary>
    /// A one-page PDF whose content stream is <paramref name="inflatedBytes"/> of repeated text operators compressed with
    /// FlateDecode: a deflate bomb (300 MB of it is about 300 KB). <paramref name="layers"/> &gt; 1 compresses it again
    /// (<c>/Filter [/FlateDecode /FlateDecode]</c>), as a bomb inside a bomb.
    /// </summary>
    public static byte[] FlateBomb(long inflatedBytes, int layers = 1)
    {
        var key = (inflatedBytes, layers);
        lock (Bombs)
        {
            if (Bombs.TryGetValue(key, out var cached)) return cached;
            if (!Deflated.TryGetValue(inflatedBytes, out var data)) Deflated[inflatedBytes] = data = Deflate(inflatedBytes);
            for (var i = 1; i < layers; i++) data = Deflate(data);
            var filter = layers == 1 ? "/FlateDecode" : "[" + string.Join(" ", Enumerable.Repeat("/FlateDecode", layers)) + "]";
            return Bombs[key] = WithContent(data, filter, pages: 1);
        }
    }

    /// <summary>A PDF of <paramref name="pages"/> pages sharing one content stream (raw bytes under the given /Filter).</summary>
    public static byte[] WithContent(byte[] stream, string? filter, int pages)
    {
        var objects = new List<byte[]>
        {
            Ascii("<< /Type /Catalog /Pages 2 0 R >>"),
            Ascii($"<< /Type /Pages /Kids [{string.Join(" ", Enumerable.Range(0, pages).Select(i => $"{5 + i} 0 R"))}] /Count {pages} >>"),
            Ascii("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"),
            Ascii($"<< /Length {stream.Length}{(filter is null ? "" : " /Filter " + filter)} >>\nstream\n").Concat(stream).Concat(Ascii("\nendstream")).ToArray(),
        };
        for (var i = 0; i < pages; i++)
            objects.Add(Ascii("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> /Contents 4 0 R >>"));

        using var pdf = new MemoryStream();
        pdf.Write(Ascii("%PDF-1.4\n"));
        var offsets = new List<long>();
        for (var i = 0; i < objects.Count; i++)
        {
            offsets.Add(pdf.Position);
            pdf.Write(Ascii($"{i + 1} 0 obj\n"));
            pdf.Write(objects[i]);
            pdf.Write(Ascii("\nendobj\n"));
        }
        var xref = pdf.Position;
        var trailer = new StringBuilder($"xref\n0 {objects.Count + 1}\n0000000000 65535 f \n");
        foreach (var offset in offsets) trailer.Append($"{offset:D10} 00000 n \n");
        trailer.Append($"trailer\n<< /Size {objects.Count + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n");
        pdf.Write(Ascii(trailer.ToString()));
        return pdf.ToArray();
    }

    private static readonly Dictionary<(long, int), byte[]> Bombs = [];
    private static readonly Dictionary<long, byte[]> Deflated = [];

    private static byte[] Ascii(string text) => Encoding.ASCII.GetBytes(text);

    /// <summary>zlib data of <paramref name="length"/> bytes of "BT /F1 12 Tf (a) Tj ET\n" repeated, made without holding them.</summary>
    private static byte[] Deflate(long length)
    {
        var pattern = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("BT /F1 12 Tf (a) Tj ET\n", 2800)));
        using var output = new MemoryStream();
        using (var zlib = new ZLibStream(output, CompressionLevel.SmallestSize, leaveOpen: true))
            for (var left = length; left > 0; left -= pattern.Length)
                zlib.Write(pattern, 0, (int)Math.Min(pattern.Length, left));
        return output.ToArray();
    }

    private static byte[] Deflate(byte[] data)
    {
        using var output = new MemoryStream();
        using (var zlib = new ZLibStream(output, CompressionLevel.SmallestSize, leaveOpen: true))
            zlib.Write(data);
        return output.ToArray();
    }
}
