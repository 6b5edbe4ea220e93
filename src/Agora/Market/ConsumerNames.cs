using System.Text;

namespace Agora.Market;

/// The names of consumer organisations. An organisation with an account (registered by the city or signed up)
/// and one known only by its identity provider's token (Agora:Market:ConsumerClaim) never share a name: the
/// token's organisation is "oidc:" and the claim's value, a prefix no account may take. Otherwise an
/// organisation could sign up under a client id before that client's first agreement and then read through it.
internal static class ConsumerNames
{
    public const string IdentityPrefix = "oidc:";

    /// The consumer an external token names by its claim's value.
    public static string OfIdentity(string claim) => IdentityPrefix + claim;

    /// The name of an account the city registers or an organisation signs up for, canonical; 400 when it is
    /// reserved (in any case or width: the check is on the canonical form).
    public static string OfAccount(string name, string member = "name")
    {
        var canonical = Canonical(name, member);
        return canonical.StartsWith(IdentityPrefix, StringComparison.OrdinalIgnoreCase)
            ? throw MarketInput.Invalid(member, $"must not begin with '{IdentityPrefix}': that prefix names the organisations of identity-provider tokens.")
            : canonical;
    }

    /// A name as it is kept: NFKC, trimmed, each run of white space one space, so that names that look alike
    /// are one. 400 for control characters (NUL among them, which PostgreSQL cannot store) and unpaired
    /// surrogates, which no organisation's name holds.
    public static string Canonical(string name, string member = "name")
    {
        if (name.Any(char.IsControl) || !Wellformed(name))
        {
            throw MarketInput.Invalid(member, "must not contain control characters or unpaired surrogates.");
        }
        return Collapse(Fold(name));
    }

    /// The form in which two names are the same consumer for uniqueness: canonical, in lower case. Never throws,
    /// so that names stored before names were checked still have a key.
    public static string Key(string name) =>
        Collapse(Wellformed(name) ? Fold(name) : name).ToLowerInvariant();

    /// Whether the text has no unpaired surrogate (which System.Text.Json lets through a JSON escape).
    public static bool Wellformed(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(text[i]))
            {
                return false;
            }
        }
        return true;
    }

    // NFKC. Agora runs with invariant globalization, where Normalize leaves most compatibility characters as they
    // are, so the fullwidth forms of ASCII (the look-alikes an input method gives) are folded here as NFKC would.
    private static string Fold(string name)
    {
        var normal = name.Normalize(NormalizationForm.FormKC);
        return normal.Any(c => c is >= '\uff01' and <= '\uff5e')
            ? string.Create(normal.Length, normal, (span, text) =>
            {
                for (var i = 0; i < text.Length; i++)
                {
                    span[i] = text[i] is >= '\uff01' and <= '\uff5e' ? (char)(text[i] - 0xfee0) : text[i];
                }
            })
            : normal;
    }

    private static string Collapse(string name) => string.Join(' ', name.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
}
