using Agora.Errors;

namespace Agora.Entities;

/// A `pick` or `omit` expression (clause 4.21): names separated by ',' or '|', each optionally followed by a
/// braced projection of what it links to, e.g. `name,owner{name|address}`.
internal sealed record Projection(string Name, IReadOnlyList<Projection> Nested)
{
    public static IReadOnlyList<Projection> Parse(string expression, string parameter)
    {
        var position = 0;
        var result = ParseList(expression, ref position, parameter, depth: 0);
        if (position != expression.Length)
        {
            throw Error(parameter, expression, $"unexpected '{expression[position]}' at position {position}");
        }
        return result;
    }

    private static List<Projection> ParseList(string text, ref int position, string parameter, int depth)
    {
        var items = new List<Projection>();
        while (true)
        {
            var start = position;
            while (position < text.Length && text[position] is not (',' or '|' or '{' or '}'))
            {
                position++;
            }
            var name = text[start..position];
            if (name.Length == 0)
            {
                throw Error(parameter, text, position < text.Length
                    ? $"a name is missing before '{text[position]}' at position {position}"
                    : "the expression ends where a name is expected");
            }
            if (!Names.IsName(name))
            {
                throw Error(parameter, text, $"'{name}' is not a valid name");
            }
            IReadOnlyList<Projection> nested = [];
            if (position < text.Length && text[position] == '{')
            {
                position++;
                if (depth > 8)
                {
                    throw Error(parameter, text, "projections nest too deep");
                }
                nested = ParseList(text, ref position, parameter, depth + 1);
                if (position >= text.Length || text[position] != '}')
                {
                    throw Error(parameter, text, "a '{' is not closed");
                }
                position++;
            }
            items.Add(new Projection(name, nested));
            if (position < text.Length && text[position] is ',' or '|')
            {
                position++;
                continue;
            }
            if (position < text.Length && text[position] == '}' && depth == 0)
            {
                throw Error(parameter, text, $"a '}}' at position {position} closes nothing");
            }
            return items;
        }
    }

    private static NgsiLdException Error(string parameter, string expression, string why) =>
        NgsiLdException.BadRequest($"Invalid {parameter}", $"'{Names.Shorten(expression)}': {why}.");
}
