using Agora.Entities;
using Agora.Errors;
using Agora.JsonLd;

namespace Agora.Query;

/// A node of an entity type selection (clause 4.17), the "type" parameter: "A,B" and "A|B" select entities of
/// either type, "A;B" entities having both, parentheses group; ';' binds tighter than ',' and '|'.
/// Type names are terms of the request's @context (or IRIs), expanded at evaluation.
internal abstract record TypeNode;

/// One type, as written.
internal sealed record TypeName(string Name) : TypeNode
{
    public override string ToString() => Name;
}

/// The entity has all these types. Two or more operands.
internal sealed record TypeAnd(ValueList<TypeNode> Operands) : TypeNode
{
    public override string ToString() => string.Join(";", Operands.Select(o => o is TypeName ? o.ToString() : $"({o})"));
}

/// The entity has at least one of these types. Two or more operands; rendered with '|' (',' parses the same).
internal sealed record TypeOr(ValueList<TypeNode> Operands) : TypeNode
{
    public override string ToString() => string.Join("|", Operands.Select(o => o is TypeOr ? $"({o})" : o.ToString()));
}

internal sealed record TypeSelection(TypeNode Root)
{
    private const string Language = "type selection";

    /// Throws BadRequestData on a syntax error, TooComplexQuery when too long or too deep.
    public static TypeSelection Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        QuerySyntax.CheckSize(Language, text);
        var root = new Parser(text).ParseAll();
        return new TypeSelection(root);
    }

    /// Whether an entity with these (expanded) types is selected.
    public bool Matches(IEnumerable<string> expandedTypes, JsonLdContext context)
    {
        var types = expandedTypes as IReadOnlySet<string> ?? new HashSet<string>(expandedTypes, StringComparer.Ordinal);
        return Matches(Root, types, context);
    }

    /// The expanded types when the selection is a plain disjunction ("A", "A,B", "A|(B|C)"), so a caller can
    /// use a type index; null when it involves ';'.
    public IReadOnlyList<string>? SimpleTypes(JsonLdContext context)
    {
        var names = new List<string>();
        return Collect(Root, names) ? [.. names.Select(context.ExpandTerm).Distinct(StringComparer.Ordinal)] : null;
    }

    public override string ToString() => Root.ToString();

    private static bool Collect(TypeNode node, List<string> names)
    {
        switch (node)
        {
            case TypeName n:
                names.Add(n.Name);
                return true;
            case TypeOr or:
                return or.Operands.All(o => Collect(o, names));
            default:
                return false;
        }
    }

    private static bool Matches(TypeNode node, IReadOnlySet<string> types, JsonLdContext context) => node switch
    {
        TypeName n => types.Contains(context.ExpandTerm(n.Name)),
        TypeAnd and => and.Operands.All(o => Matches(o, types, context)),
        TypeOr or => or.Operands.Any(o => Matches(o, types, context)),
        _ => false,
    };

    private sealed class Parser(string text) : BooleanParser<TypeNode>(TypeSelection.Language, text)
    {
        protected override TypeNode AnyOf(List<TypeNode> operands) => new TypeOr(operands);

        protected override TypeNode AllOf(List<TypeNode> operands) => new TypeAnd(operands);

        protected override TypeNode Leaf()
        {
            var start = Pos;
            while (Pos < Text.Length && Text[Pos] is not (',' or ';' or '|' or '(' or ')'))
            {
                Pos++;
            }
            var name = Text[start..Pos];
            if (name.Length == 0)
            {
                throw QuerySyntax.Error(Language, Text, Pos, "a type name or '('");
            }
            // Full IRIs are allowed as type names, so the name is checked as a whole rather than char by char.
            if (!Names.IsName(name) && !Names.IsUri(name))
            {
                throw QuerySyntax.Invalid(Language, start, $"'{Names.Shorten(name)}' is not a valid type name");
            }
            return new TypeName(name);
        }
    }
}
