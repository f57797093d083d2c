using System.Text;
using UglyToad.PdfPig;

namespace Castor.Application.Files;

/// <summary>A PDF's text, page by page, through PdfPig (pure .NET, streams pages; no rendering, so scanned pages yield nothing).</summary>
public static class PdfText
{
    /// <summary>
    /// The text of every page, each under a <c>[Page n]</c> heading so the model can refer to pages. Throws
    /// <see cref="InvalidDataException"/> when the bytes are not a readable PDF.
    /// </summary>
    public static string Extract(Stream pdf, long maxChars)
    {
        try
        {
            using var document = PdfDocument.Open(pdf, new ParsingOptions { UseLenientParsing = true });
            var text = new StringBuilder();
            foreach (var page in document.GetPages())
            {
                if (text.Length > 0) text.Append("\n\n");
                text.Append("[Page ").Append(page.Number).Append("]\n");
                text.Append(page.Text.Trim());
                if (text.Length > maxChars)
                    throw new InvalidDataException($"the PDF holds more than {maxChars} characters of text, more than a prompt can use.");
            }
            return text.ToString();
        }
        catch (InvalidDataException)
        {
            throw;
        }
        catch (Exception ex) when (ex is not OperationCanceledException and not OutOfMemoryException)
        {
            // PdfPig reports malformed files with a range of exception types.
            throw new InvalidDataException("the file is not a readable PDF: " + ex.Message, ex);
        }
    }
}
