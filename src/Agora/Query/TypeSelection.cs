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
        var parser = new Parser(text);
        var root = parser.Or();
        if (parser.Pos < text.Length)
        {
            throw QuerySyntax.Error(Language, text, parser.Pos, "',', ';', '|' or the end of the expression");
        }
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

    private sealed class Parser(string text)
    {
        private int depth;

        public int Pos { get; private set; }

        public TypeNode Or()
        {
            var operands = new List<TypeNode> { And() };
            while (Pos < text.Length && text[Pos] is ',' or '|')
            {
                Pos++;
                operands.Add(And());
            }
            return operands.Count == 1 ? operands[0] : new TypeOr(operands);
        }

        private TypeNode And()
        {
            var operands = new List<TypeNode> { Primary() };
            while (Pos < text.Length && text[Pos] == ';')
            {
                Pos++;
                operands.Add(Primary());
            }
            return operands.Count == 1 ? operands[0] : new TypeAnd(operands);
        }

        private TypeNode Primary()
        {
            if (Pos < text.Length && text[Pos] == '(')
            {
                if (++depth > QuerySyntax.MaxDepth)
                {
                    throw QuerySyntax.TooDeep(Language, Pos);
                }
                Pos++;
                var inner = Or();
                if (Pos >= text.Length || text[Pos] != ')')
                {
                    throw QuerySyntax.Error(Language, text, Pos, "')' to close the '(' group");
                }
                Pos++;
                depth--;
                return inner;
            }
            var start = Pos;
            while (Pos < text.Length && text[Pos] is not (',' or ';' or '|' or '(' or ')'))
            {
                Pos++;
            }
            var name = text[start..Pos];
            if (name.Length == 0)
            {
                throw QuerySyntax.Error(Language, text, Pos, "a type name or '('");
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
