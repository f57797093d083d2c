using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Castor.Engine.Grammars;

namespace Castor.UnitTests.Grammars;

public sealed class NumberRangesTests
{
    /// <summary>The range rules use a regex-like subset of GBNF; turned into a .NET regex, each number can be checked.</summary>
    private static Regex ToRegex(string gbnf)
    {
        var sb = new StringBuilder("^(?:");
        for (var i = 0; i < gbnf.Length; i++)
        {
            var c = gbnf[i];
            if (c == '"')
            {
                var end = gbnf.IndexOf('"', i + 1);
                sb.Append(Regex.Escape(gbnf[(i + 1)..end]));
                i = end;
            }
            else if (c == ' ') { }
            else sb.Append(c);
        }
        return new Regex(sb.Append(")$").ToString());
    }

    private static string Text(double d) => d.ToString(CultureInfo.InvariantCulture);

    [Theory]
    [InlineData(0L, 9L)]
    [InlineData(3L, 142L)]
    [InlineData(-57L, 23L)]
    [InlineData(-300L, -12L)]
    [InlineData(10L, 10L)]
    [InlineData(99L, 1001L)]
    [InlineData(0L, 0L)]
    [InlineData(-1L, 1L)]
    public void Bounded_integer_ranges_accept_exactly_their_members(long min, long max)
    {
        var regex = ToRegex(NumberRanges.Integer(min, max));
        for (var n = min - 150; n <= max + 150; n++)
            Assert.True(regex.IsMatch(n.ToString(CultureInfo.InvariantCulture)) == (n >= min && n <= max), $"{n} in [{min},{max}]");
        Assert.DoesNotMatch(regex, "-0");
        Assert.DoesNotMatch(regex, "007");
    }

    [Theory]
    [InlineData(5L, null)]
    [InlineData(-20L, null)]
    [InlineData(null, 42L)]
    [InlineData(null, -7L)]
    public void Half_open_integer_ranges_accept_exactly_their_members(long? min, long? max)
    {
        var regex = ToRegex(NumberRanges.Integer(min, max));
        for (var n = -2000L; n <= 2000; n++)
            Assert.True(regex.IsMatch(n.ToString(CultureInfo.InvariantCulture)) == (n >= (min ?? long.MinValue) && n <= (max ?? long.MaxValue)), $"{n}");
        Assert.Equal(min is null, regex.IsMatch("-123456789012"));
        Assert.Equal(max is null, regex.IsMatch("123456789012"));
    }

    [Theory]
    [InlineData(0L, 1L)]
    [InlineData(-5L, 5L)]
    [InlineData(-10L, -2L)]
    [InlineData(1L, 100L)]
    public void Decimal_ranges_accept_fractions_inside_and_refuse_them_outside(long min, long max)
    {
        var regex = ToRegex(NumberRanges.Decimal(new NumberRanges.Bound(new DecimalBound(min, 0), false), new NumberRanges.Bound(new DecimalBound(max, 0), false)));
        for (var tenths = (min - 3) * 10; tenths <= (max + 3) * 10; tenths++)
        {
            var value = tenths / 10.0;
            Assert.True(regex.IsMatch(Text(value)) == (value >= min && value <= max), $"{Text(value)} in [{min},{max}]");
        }
        Assert.Matches(regex, Text(min + 0.125));
        Assert.DoesNotMatch(regex, Text(max + 0.001));
    }
}
