using System.Globalization;
using System.Text.RegularExpressions;
using Agora.Errors;

namespace Agora.Query;

/// The q language of clause 4.9, by recursive descent:
///   Query   = Or
///   Or      = And *('|' And)
///   And     = Primary *(';' Primary)
///   Primary = '(' Or ')' / Term
///   Term    = '!' Path / Path [Op Value]
/// The spec's QueryTermAssoc allows only flat groups, but its own examples nest them ("((a|b);c)"), so any
/// nesting up to MaxDepth is accepted. White space is not part of the grammar and is refused outside strings.
internal sealed partial class QParser
{
    private const string Language = "q";
    private const int MaxRegexLength = 512;

    private readonly string text;
    private int pos;
    private int depth;

    private QParser(string text) => this.text = text;

    public static QNode Parse(string q)
    {
        ArgumentNullException.ThrowIfNull(q);
        QuerySyntax.CheckSize(Language, q);
        if (q.Length == 0)
        {
            throw NgsiLdException.BadRequest("Invalid q", "q: the expression is empty.");
        }
        var parser = new QParser(q);
        var node = parser.ParseOr();
        if (parser.pos < q.Length)
        {
            throw parser.Expected(parser.text[parser.pos] == ')' ? "';', '|' or the end (unbalanced ')')" : "';', '|' or the end of the expression");
        }
        return node;
    }

    private NgsiLdException Expected(string what) => QuerySyntax.Error(Language, text, pos, what);

    private bool At(char c) => pos < text.Length && text[pos] == c;

    private bool At(string s) => string.CompareOrdinal(text, pos, s, 0, s.Length) == 0;

    private QNode ParseOr()
    {
        var operands = new List<QNode> { ParseAnd() };
        while (At('|'))
        {
            pos++;
            operands.Add(ParseAnd());
        }
        return operands.Count == 1 ? operands[0] : new QOr(operands);
    }

    private QNode ParseAnd()
    {
        var operands = new List<QNode> { ParsePrimary() };
        while (At(';'))
        {
            pos++;
            operands.Add(ParsePrimary());
        }
        return operands.Count == 1 ? operands[0] : new QAnd(operands);
    }

    private QNode ParsePrimary()
    {
        if (!At('('))
        {
            return ParseTerm();
        }
        if (++depth > QuerySyntax.MaxDepth)
        {
            throw QuerySyntax.TooDeep(Language, pos);
        }
        pos++;
        var inner = ParseOr();
        if (!At(')'))
        {
            throw Expected("')' to close the '(' group");
        }
        pos++;
        depth--;
        return inner;
    }

    private QTerm ParseTerm()
    {
        if (At('!'))
        {
            pos++;
            var negated = ParsePath();
            if (pos < text.Length && text[pos] is not (';' or '|' or ')'))
            {
                throw Expected("';', '|', ')' or the end after a negated attribute ('!attr' takes no operator)");
            }
            return new QTerm(negated, QOperator.NotExists, null);
        }
        var path = ParsePath();
        if (pos >= text.Length || text[pos] is ';' or '|' or ')')
        {
            return new QTerm(path, QOperator.Exists, null);
        }
        var op = ParseOperator();
        var value = op switch
        {
            QOperator.Pattern or QOperator.NotPattern => ParseRegex(),
            QOperator.Equal or QOperator.Unequal => ParseEqualityValue(),
            _ => ParseComparable(op),
        };
        if (pos < text.Length && text[pos] is not (';' or '|' or ')'))
        {
            throw Expected("';', '|', ')' or the end after the value");
        }
        return new QTerm(path, op, value);
    }

    private QOperator ParseOperator()
    {
        (string Text, QOperator Op)[] operators =
        [
            ("==", QOperator.Equal), ("!~=", QOperator.NotPattern), ("!=", QOperator.Unequal), (">=", QOperator.GreaterOrEqual),
            (">", QOperator.Greater), ("<=", QOperator.LessOrEqual), ("<", QOperator.Less), ("~=", QOperator.Pattern),
        ];
        foreach (var (symbol, op) in operators)
        {
            if (At(symbol))
            {
                pos += symbol.Length;
                return op;
            }
        }
        throw Expected("an operator (== != > >= < <= ~= !~=), '.', '[', ';', '|', ')' or the end after the attribute path");
    }

    // Path = Name *('.' Name) ['[' Segment *('.' Segment) ']'].
    private QPath ParsePath()
    {
        var names = new List<string> { ParseName("an attribute name") };
        while (At('.'))
        {
            pos++;
            names.Add(ParseName("an attribute name after '.'"));
        }
        var trailing = new List<string>();
        if (At('['))
        {
            pos++;
            trailing.Add(ParseSegment());
            while (At('.'))
            {
                pos++;
                trailing.Add(ParseSegment());
            }
            if (!At(']'))
            {
                throw Expected("'.' or ']' in the bracketed path");
            }
            pos++;
            if (At('['))
            {
                throw Expected("an operator: only one bracketed path is allowed (write a[b.c], not a[b][c])");
            }
        }
        string? metadata = null;
        if (QPath.MetadataNames.Contains(names[^1]) && (names.Count > 1 || names[0] is "createdAt" or "modifiedAt" or "deletedAt"))
        {
            if (trailing.Count > 0)
            {
                throw QuerySyntax.Invalid(Language, pos, $"'{names[^1]}' is a system member and has no bracketed path");
            }
            metadata = names[^1];
            names.RemoveAt(names.Count - 1);
        }
        return new QPath(names, metadata, trailing);
    }

    // AttrName = unicodeLetter *(unicodeLetter / unicodeNumber / '_'), optionally "prefix:name" (clause 4.6.2).
    private string ParseName(string what)
    {
        var start = pos;
        if (pos >= text.Length || !char.IsLetter(text[pos]))
        {
            throw Expected(what);
        }
        pos++;
        while (pos < text.Length && IsNameChar(text[pos]))
        {
            pos++;
        }
        if (At(':') && pos + 1 < text.Length && char.IsLetter(text[pos + 1]))
        {
            pos += 2;
            while (pos < text.Length && IsNameChar(text[pos]))
            {
                pos++;
            }
        }
        return text[start..pos];
    }

    private static bool IsNameChar(char c) => char.IsLetterOrDigit(c) || c == '_' || char.GetUnicodeCategory(c) is UnicodeCategory.OtherNumber or UnicodeCategory.LetterNumber;

    // A JSON member name or a language tag ("en", "de-CH"), or "*" for any language.
    private string ParseSegment()
    {
        if (At('*'))
        {
            pos++;
            return "*";
        }
        var start = pos;
        while (pos < text.Length && (IsNameChar(text[pos]) || text[pos] == '-'))
        {
            pos++;
        }
        if (pos == start)
        {
            throw Expected("a member name, a language tag or '*' inside '[...]'");
        }
        return text[start..pos];
    }

    // CompEqualityValue: a value, a range "a..b" or a list "a,b,...".
    private QValue ParseEqualityValue()
    {
        var first = ParseScalar();
        if (At(".."))
        {
            var dotsAt = pos;
            pos += 2;
            var maxAt = pos;
            var max = ParseScalar();
            if (!first.IsComparable || !max.IsComparable)
            {
                throw QuerySyntax.Invalid(Language, first.IsComparable ? maxAt : dotsAt, "a range needs numbers, quoted strings, date-times, dates or times as bounds");
            }
            if (first.GetType() != max.GetType())
            {
                throw QuerySyntax.Invalid(Language, maxAt, "both bounds of a range must be of the same kind");
            }
            return new QRange(first, max);
        }
        if (!At(','))
        {
            return first;
        }
        var items = new List<QScalar> { first };
        while (At(','))
        {
            pos++;
            items.Add(ParseScalar());
        }
        return new QList(items);
    }

    private QScalar ParseComparable(QOperator op)
    {
        var at = pos;
        var value = ParseScalar();
        if (!value.IsComparable)
        {
            throw QuerySyntax.Invalid(Language, at, $"'{Operators.Text(op)}' needs a number, a quoted string, a date-time, a date or a time");
        }
        return value;
    }

    private QScalar ParseScalar()
    {
        if (pos >= text.Length)
        {
            throw Expected("a value");
        }
        var c = text[pos];
        if (c == '"')
        {
            return new QString(QuerySyntax.ReadJsonString(Language, text, ref pos));
        }
        if (char.IsAsciiDigit(c) || c == '-')
        {
            return ParseNumeric();
        }
        if (char.IsLetter(c))
        {
            return ParseBare();
        }
        throw Expected("a value (a number, a quoted string, true, false, a date-time or a URI)");
    }

    // Dates, times and numbers all start with digits; the longest temporal form is tried first.
    private QScalar ParseNumeric()
    {
        var m = DateTimePattern().Match(text, pos);
        if (m.Success)
        {
            var start = pos;
            pos += m.Length;
            return new QDateTime(ToDateTime(m, start));
        }
        m = DatePattern().Match(text, pos);
        if (m.Success)
        {
            var start = pos;
            pos += m.Length;
            return new QDate(DateOnly.TryParseExact(m.Value, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d)
                ? d
                : throw QuerySyntax.Invalid(Language, start, $"'{m.Value}' is not a valid date"));
        }
        m = TimePattern().Match(text, pos);
        if (m.Success)
        {
            var start = pos;
            pos += m.Length;
            return new QTime(ToTime(m.Groups["h"].Value, m.Groups["m"].Value, m.Groups["s"].Value, m.Groups["f"].Value)
                ?? throw QuerySyntax.Invalid(Language, start, $"'{m.Value}' is not a valid time"));
        }
        m = NumberPattern().Match(text, pos);
        if (!m.Success)
        {
            pos++;
            throw Expected("a digit after '-'");
        }
        var number = double.Parse(m.Value, NumberStyles.Float, CultureInfo.InvariantCulture);
        if (!double.IsFinite(number))
        {
            throw QuerySyntax.Invalid(Language, pos, $"the number {Shorten(m.Value)} is out of range");
        }
        pos += m.Length;
        return new QNumber(number);
    }

    private DateTimeOffset ToDateTime(Match m, int start)
    {
        var time = ToTime(m.Groups["h"].Value, m.Groups["m"].Value, m.Groups["s"].Value, m.Groups["f"].Value);
        var zone = m.Groups["z"].Value;
        var offset = TimeSpan.Zero;
        if (zone.Length > 1)
        {
            var digits = zone[1..].Replace(":", "", StringComparison.Ordinal);
            var hours = int.Parse(digits[..2], CultureInfo.InvariantCulture);
            var minutes = int.Parse(digits[2..], CultureInfo.InvariantCulture);
            offset = hours <= 14 && minutes < 60 ? new TimeSpan(hours, minutes, 0) * (zone[0] == '-' ? -1 : 1) : TimeSpan.MaxValue;
        }
        if (time is null || offset == TimeSpan.MaxValue
            || !DateOnly.TryParseExact(m.Groups["d"].Value, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
        {
            throw QuerySyntax.Invalid(Language, start, $"'{m.Value}' is not a valid date-time");
        }
        var local = date.ToDateTime(time.Value);
        var utcTicks = local.Ticks - offset.Ticks;
        if (utcTicks < DateTime.MinValue.Ticks || utcTicks > DateTime.MaxValue.Ticks)
        {
            throw QuerySyntax.Invalid(Language, start, $"'{m.Value}' is out of range");
        }
        return new DateTimeOffset(new DateTime(utcTicks, DateTimeKind.Utc));
    }

    /// hh:mm[:ss[.fraction]] with hh below 24; null when a field is out of range.
    internal static TimeOnly? ToTime(string h, string m, string s, string fraction)
    {
        var hours = int.Parse(h, CultureInfo.InvariantCulture);
        var minutes = int.Parse(m, CultureInfo.InvariantCulture);
        var seconds = s.Length == 0 ? 0 : int.Parse(s, CultureInfo.InvariantCulture);
        if (hours > 23 || minutes > 59 || seconds > 59)
        {
            return null;
        }
        var ticks = fraction.Length == 0 ? 0 : long.Parse(fraction.PadRight(7, '0')[..7], CultureInfo.InvariantCulture);
        return new TimeOnly(new TimeSpan(0, hours, minutes, seconds).Ticks + ticks);
    }

    // A URI (urn:ngsi-ld:City:Pisa, https://example.org/a?b=c) or a bare word (Male), up to the next ',', ';',
    // '|' or ')': URIs holding those characters must be quoted. "true" and "false" are the booleans.
    private QScalar ParseBare()
    {
        var start = pos;
        while (pos < text.Length && text[pos] is not (',' or ';' or '|' or ')'))
        {
            var c = text[pos];
            if (char.IsWhiteSpace(c) || char.IsControl(c) || c is '"' or '<' or '>' or '\\' or '{' or '}' or '^' or '`')
            {
                throw Expected("a URI character (quote the value if it holds spaces or symbols)");
            }
            pos++;
        }
        var word = text[start..pos];
        return word switch
        {
            "true" => new QBool(true),
            "false" => new QBool(false),
            _ => new QUri(word),
        };
    }

    // A regular expression: a quoted JSON string, or the raw text up to the next ';', or the next '|' or ')'
    // that is outside the pattern's own parentheses and brackets.
    private QRegex ParseRegex()
    {
        var start = pos;
        string pattern;
        if (At('"'))
        {
            pattern = QuerySyntax.ReadJsonString(Language, text, ref pos);
        }
        else
        {
            var groups = 0;
            var inClass = false;
            while (pos < text.Length)
            {
                var c = text[pos];
                if (c == '\\' && pos + 1 < text.Length)
                {
                    pos += 2;
                    continue;
                }
                if (inClass)
                {
                    inClass = c != ']';
                }
                else if (c == '[')
                {
                    inClass = true;
                }
                else if (c == '(')
                {
                    groups++;
                }
                else if (c == ')' && groups > 0)
                {
                    groups--;
                }
                else if (c == ';' || groups == 0 && c is '|' or ')')
                {
                    break;
                }
                pos++;
            }
            pattern = text[start..pos];
        }
        if (pattern.Length == 0)
        {
            throw QuerySyntax.Invalid(Language, start, "the regular expression is empty");
        }
        if (pattern.Length > MaxRegexLength)
        {
            throw QuerySyntax.Invalid(Language, start, $"the regular expression is longer than {MaxRegexLength} characters");
        }
        try
        {
            return new QRegex(pattern);
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or OutOfMemoryException or InsufficientExecutionStackException)
        {
            throw QuerySyntax.Invalid(Language, start, $"invalid or unsupported regular expression ({Shorten(e.Message)})");
        }
    }

    private static string Shorten(string s) => s.Length <= 60 ? s : s[..60] + "…";

    [GeneratedRegex(@"\G(?<d>[0-9]{4}-[0-9]{2}-[0-9]{2})T(?<h>[0-9]{2}):(?<m>[0-9]{2})(?::(?<s>[0-9]{2})(?:\.(?<f>[0-9]{1,7})[0-9]*)?)?(?<z>Z|[+-][0-9]{2}:?[0-9]{2})?", RegexOptions.CultureInvariant)]
    private static partial Regex DateTimePattern();

    [GeneratedRegex(@"\G[0-9]{4}-[0-9]{2}-[0-9]{2}", RegexOptions.CultureInvariant)]
    private static partial Regex DatePattern();

    [GeneratedRegex(@"\G(?<h>[0-9]{2}):(?<m>[0-9]{2})(?::(?<s>[0-9]{2})(?:\.(?<f>[0-9]{1,7})[0-9]*)?)?Z?", RegexOptions.CultureInvariant)]
    private static partial Regex TimePattern();

    [GeneratedRegex(@"\G-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?", RegexOptions.CultureInvariant)]
    private static partial Regex NumberPattern();
}
