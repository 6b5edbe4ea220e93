using Agora.Entities;
using Agora.Errors;

namespace Agora.Query;

/// A node of a scope query (clause 4.19), the "scopeQ" parameter.
internal abstract record ScopeNode;

/// One scope pattern, split into levels: "/Madrid/+/ParqueNorte" is ["Madrid", "+", "ParqueNorte"].
/// "+" matches exactly one level; "#", only as the last level, matches that point and everything below it
/// ("/#" alone: any scope at all, i.e. the entity has a scope).
internal sealed record ScopePattern(ValueList<string> Levels) : ScopeNode
{
    public override string ToString() => "/" + string.Join("/", Levels);

    /// Whether one scope ("/Madrid/Gardens") is matched by this pattern.
    public bool Matches(string scope)
    {
        var levels = scope.Split('/');
        // A scope starts with '/', so its first split element is empty.
        if (levels.Length < 2 || levels[0].Length != 0)
        {
            return false;
        }
        var count = levels.Length - 1;
        for (var i = 0; i < Levels.Count; i++)
        {
            if (Levels[i] == "#")
            {
                return true;
            }
            if (i >= count || Levels[i] != "+" && Levels[i] != levels[i + 1])
            {
                return false;
            }
        }
        return count == Levels.Count;
    }
}

/// Every operand is matched (each possibly by a different scope of the entity). Two or more operands.
internal sealed record ScopeAnd(ValueList<ScopeNode> Operands) : ScopeNode
{
    public override string ToString() => string.Join(";", Operands.Select(o => o is ScopePattern ? o.ToString() : $"({o})"));
}

/// Some operand is matched; ',' and '|' both mean OR, rendered as ','. Two or more operands.
internal sealed record ScopeOr(ValueList<ScopeNode> Operands) : ScopeNode
{
    public override string ToString() => string.Join(",", Operands.Select(o => o is ScopeOr ? $"({o})" : o.ToString()));
}

internal sealed record ScopeQuery(ScopeNode Root)
{
    private const string Language = "scopeQ";

    /// Throws BadRequestData on a syntax error, TooComplexQuery when too long or too deep.
    public static ScopeQuery Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        QuerySyntax.CheckSize(Language, text);
        var root = new Parser(text).ParseAll();
        return new ScopeQuery(root);
    }

    /// Whether an entity with these scopes (none if it has no scope) is selected.
    public bool Matches(IEnumerable<string> scopes)
    {
        var list = scopes as IReadOnlyCollection<string> ?? [.. scopes];
        return Matches(Root, list);
    }

    public override string ToString() => Root.ToString();

    private static bool Matches(ScopeNode node, IReadOnlyCollection<string> scopes) => node switch
    {
        ScopePattern p => scopes.Any(p.Matches),
        ScopeAnd and => and.Operands.All(o => Matches(o, scopes)),
        ScopeOr or => or.Operands.Any(o => Matches(o, scopes)),
        _ => false,
    };

    private sealed class Parser(string text) : BooleanParser<ScopeNode>(ScopeQuery.Language, text)
    {
        protected override ScopeNode AnyOf(List<ScopeNode> operands) => new ScopeOr(operands);

        protected override ScopeNode AllOf(List<ScopeNode> operands) => new ScopeAnd(operands);

        protected override ScopeNode Leaf()
        {
            if (Pos >= Text.Length || Text[Pos] != '/')
            {
                throw QuerySyntax.Error(Language, Text, Pos, "a scope starting with '/' or '('");
            }
            var levels = new List<string>();
            while (Pos < Text.Length && Text[Pos] == '/')
            {
                if (levels.Count > 0 && levels[^1] == "#")
                {
                    throw QuerySyntax.Invalid(Language, Pos, "'#' may only be the last level of a scope");
                }
                Pos++;
                levels.Add(Level());
            }
            return new ScopePattern(levels);
        }

        private string Level()
        {
            var start = Pos;
            while (Pos < Text.Length && Text[Pos] is not ('/' or ',' or ';' or '|' or '(' or ')'))
            {
                Pos++;
            }
            var level = Text[start..Pos];
            if (level is "+" or "#")
            {
                return level;
            }
            if (level.Length == 0)
            {
                throw QuerySyntax.Error(Language, Text, Pos, "a scope level, '+' or '#' after '/'");
            }
            if (!Names.IsName(level) || level.Contains('+', StringComparison.Ordinal))
            {
                throw QuerySyntax.Invalid(Language, start, $"'{Names.Shorten(level)}' is not a valid scope level ('+' and '#' must stand alone)");
            }
            return level;
        }
    }
}
