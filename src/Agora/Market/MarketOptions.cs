namespace Agora.Market;

/// The "Agora:Market" section.
internal sealed class MarketOptions
{
    public const string Section = "Agora:Market";

    /// Claim of an external identity provider's token that names the consumer organisation (as agreements name
    /// it, in the token's tenant), e.g. "azp" for the client id. A consumer token with it is held to the union of
    /// that consumer's active agreements; unset, external tokens name no consumer and are not narrowed.
    public string? ConsumerClaim { get; set; }
}
