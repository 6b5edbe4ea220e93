using System.Globalization;
using System.Text;
using Agora.Errors;

namespace Agora.Query;

/// What the three query languages (q, type selection, scopeQ) share: size limits, error reporting with the
/// position of the fault, and JSON string literals.
internal static class QuerySyntax
{
    /// Longer expressions are refused before parsing: a query string is not a program.
    public const int MaxLength = 4096;

    /// Parenthesis nesting beyond this is refused: the parsers recurse once per level.
    public const int MaxDepth = 32;

    public static void CheckSize(string language, string text)
    {
        if (text.Length > MaxLength)
        {
            throw new NgsiLdException(ErrorTypes.TooComplexQuery, $"{language} too long",
                $"The {language} expression has {text.Length} characters; at most {MaxLength} are accepted.");
        }
    }

    public static NgsiLdException TooDeep(string language, int position) =>
        new(ErrorTypes.TooComplexQuery, $"{language} too deeply nested",
            $"{language}: parentheses nest more than {MaxDepth} levels deep at position {position + 1}.");

    /// A syntax error: where (1-based position), what was expected and what was found instead.
    public static NgsiLdException Error(string language, string text, int position, string expected) =>
        NgsiLdException.BadRequest($"Invalid {language}",
            $"{language}: expected {expected} at position {position + 1}, found {Found(text, position)}.");

    public static NgsiLdException Invalid(string language, int position, string problem) =>
        NgsiLdException.BadRequest($"Invalid {language}", $"{language}: {problem} at position {position + 1}.");

    private static string Found(string text, int position)
    {
        if (position >= text.Length)
        {
            return "the end of the expression";
        }
        var c = text[position];
        return char.IsControl(c) || char.IsWhiteSpace(c) || char.IsSurrogate(c)
            ? $"character U+{(int)c:X4}"
            : $"'{c}'";
    }

    /// Reads a JSON string literal (RFC 8259 section 7) starting at the opening quote; returns its content and
    /// moves position past the closing quote.
    public static string ReadJsonString(string language, string text, ref int position)
    {
        var start = position;
        position++;
        var sb = new StringBuilder();
        while (true)
        {
            if (position >= text.Length)
            {
                throw Invalid(language, start, "unterminated string (no closing '\"')");
            }
            var c = text[position];
            if (c == '"')
            {
                position++;
                return sb.ToString();
            }
            if (c < 0x20)
            {
                throw Error(language, text, position, "a printable character or an escape inside the string");
            }
            if (c != '\\')
            {
                sb.Append(c);
                position++;
                continue;
            }
            if (position + 1 >= text.Length)
            {
                throw Invalid(language, start, "unterminated string (no closing '\"')");
            }
            var e = text[position + 1];
            switch (e)
            {
                case '"' or '\\' or '/': sb.Append(e); break;
                case 'b': sb.Append('\b'); break;
                case 'f': sb.Append('\f'); break;
                case 'n': sb.Append('\n'); break;
                case 'r': sb.Append('\r'); break;
                case 't': sb.Append('\t'); break;
                case 'u':
                    if (position + 6 > text.Length
                        || !int.TryParse(text.AsSpan(position + 2, 4), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var code))
                    {
                        throw Error(language, text, position + 2, "four hexadecimal digits after \\u");
                    }
                    sb.Append((char)code);
                    position += 4;
                    break;
                default:
                    throw Error(language, text, position + 1, "one of \" \\ / b f n r t u after a backslash");
            }
            position += 2;
        }
    }

    /// A JSON string literal that ReadJsonString reads back to the same text; lone surrogates are escaped
    /// so that any .NET string survives the round trip.
    public static string JsonString(string value)
    {
        var sb = new StringBuilder(value.Length + 2).Append('"');
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            var paired = char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1])
                || char.IsLowSurrogate(c) && i > 0 && char.IsHighSurrogate(value[i - 1]);
            if (c is '"' or '\\')
            {
                sb.Append('\\').Append(c);
            }
            else if (c < 0x20 || c == 0x7F || char.IsSurrogate(c) && !paired)
            {
                sb.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
            }
            else
            {
                sb.Append(c);
            }
        }
        return sb.Append('"').ToString();
    }
}
