namespace Agora.Query;

/// The grammar type selection (clause 4.17) and scopeQ (clause 4.19) share: leaves joined by ';' (and) and
/// ',' or '|' (or), ';' binding tighter, grouped with parentheses. Each language supplies its leaf.
internal abstract class BooleanParser<TNode>(string language, string text)
{
    private int _depth;

    protected string Language { get; } = language;
    protected string Text { get; } = text;
    protected int Pos { get; set; }

    /// The whole text as one expression, or BadRequestData naming where it stops making sense.
    public TNode ParseAll()
    {
        var root = Or();
        if (Pos < Text.Length)
        {
            throw QuerySyntax.Error(Language, Text, Pos, "',', ';', '|' or the end of the expression");
        }
        return root;
    }

    protected abstract TNode AnyOf(List<TNode> operands);

    protected abstract TNode AllOf(List<TNode> operands);

    /// A leaf at Pos, which it advances past.
    protected abstract TNode Leaf();

    private TNode Or()
    {
        var operands = new List<TNode> { And() };
        while (Pos < Text.Length && Text[Pos] is ',' or '|')
        {
            Pos++;
            operands.Add(And());
        }
        return operands.Count == 1 ? operands[0] : AnyOf(operands);
    }

    private TNode And()
    {
        var operands = new List<TNode> { Primary() };
        while (Pos < Text.Length && Text[Pos] == ';')
        {
            Pos++;
            operands.Add(Primary());
        }
        return operands.Count == 1 ? operands[0] : AllOf(operands);
    }

    private TNode Primary()
    {
        if (Pos >= Text.Length || Text[Pos] != '(')
        {
            return Leaf();
        }
        if (++_depth > QuerySyntax.MaxDepth)
        {
            throw QuerySyntax.TooDeep(Language, Pos);
        }
        Pos++;
        var inner = Or();
        if (Pos >= Text.Length || Text[Pos] != ')')
        {
            throw QuerySyntax.Error(Language, Text, Pos, "')' to close the '(' group");
        }
        Pos++;
        _depth--;
        return inner;
    }
}
