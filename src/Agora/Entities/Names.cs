using Agora.Errors;

namespace Agora.Entities;

/// The syntax rules of NGSI-LD identifiers and names (clauses 4.6.2 and 4.6.3).
internal static class Names
{
    // Characters that would break the query language or HTTP, forbidden in names by clause 4.6.2.
    private static readonly System.Buffers.SearchValues<char> Forbidden = System.Buffers.SearchValues.Create("<>\"'=;()\\&?#%[]{}|^` ");
    private const int MaxLength = 1024;

    public static void CheckUri(string value, string what)
    {
        if (!IsUri(value))
        {
            throw NgsiLdException.BadRequest($"Invalid {what}", $"'{Shorten(value)}' is not a valid URI: {what} must be an absolute URI such as urn:ngsi-ld:Building:1.");
        }
    }

    public static bool IsUri(string value) =>
        value.Length is > 0 and <= MaxLength
        && !value.Any(c => char.IsWhiteSpace(c) || char.IsControl(c) || c is '<' or '>' or '"' or '\\' or '{' or '}' or '|' or '^' or '`')
        && value.IndexOf(':') > 0
        && char.IsAsciiLetter(value[0])
        && value[..value.IndexOf(':')].All(c => char.IsAsciiLetterOrDigit(c) || c is '+' or '-' or '.')
        && Uri.TryCreate(value, UriKind.Absolute, out _);

    public static void CheckAttributeName(string name)
    {
        if (!IsName(name) && !IsUri(name))
        {
            throw NgsiLdException.BadRequest("Invalid attribute name", $"'{Shorten(name)}' is not a valid attribute name (clause 4.6.2 forbids empty names, white space, control characters and <>\"'=;()).");
        }
    }

    public static void CheckTypeName(string name)
    {
        if (!IsName(name) && !IsUri(name))
        {
            throw NgsiLdException.BadRequest("Invalid type", $"'{Shorten(name)}' is not a valid entity type name.");
        }
    }

    public static bool IsName(string name) =>
        name.Length is > 0 and <= MaxLength
        && name[0] != '@'
        && name.AsSpan().IndexOfAny(Forbidden) < 0
        && !name.Any(char.IsControl)
        && !name.Any(char.IsWhiteSpace);

    public static bool IsScope(string scope) =>
        scope.Length is > 1 and <= MaxLength && scope[0] == '/' && !scope.EndsWith('/')
        && scope.Split('/')[1..].All(s => s.Length > 0 && IsName(s) && !s.Contains('+'));

    public static string Shorten(string value) => value.Length <= 80 ? value : value[..80] + "…";
}
