namespace Agora.Market;

/// The "Agora:Market" section.
internal sealed class MarketOptions
{
    public const string Section = "Agora:Market";

    /// Claim of an external identity provider's token that names the consumer organisation, e.g. "azp" for the
    /// client id: the organisation is "oidc:" and the claim's value (ConsumerNames), as agreements name it in the
    /// token's tenant. A consumer token with it is held to the union of that consumer's active agreements; unset,
    /// external tokens name no consumer and are not narrowed.
    public string? ConsumerClaim { get; set; }

    /// Whether organisations may sign up by themselves (POST /market/v1/signup) in a tenant whose admin has not
    /// said otherwise (PUT /market/v1/signup). Closed by default: the city opens its shop when it is ready.
    public bool OpenSignup { get; set; }

    /// How many consumer accounts one address may sign up in any 24 hours, over every tenant (0: none).
    public int SignupsPerAddress { get; set; } = 3;

    /// How many agreement requests one consumer organisation may have waiting for the city's approval at once.
    public int PendingRequestsPerConsumer { get; set; } = 5;
}
