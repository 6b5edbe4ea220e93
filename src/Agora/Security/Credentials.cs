using System.Security.Cryptography;
using System.Text;

namespace Agora.Security;

/// What a new credential is for, as the admin API and the CLI take it; a key the marketplace issues for an
/// agreement carries that agreement's id, one it issues for a consumer organisation that consumer's name.
internal sealed record CredentialRequest(
    Role Role, IReadOnlyList<string>? Types, string? Name, DateTimeOffset? ExpiresAt, int? RateLimit, string? Agreement = null, string? Consumer = null);

/// Makes and checks the secrets of API keys and OAuth2 clients. A secret is 256 random bits, so a plain SHA-256
/// of it is as good as a slow password hash (there is nothing to guess) and cheap enough for every request;
/// comparisons take constant time.
internal sealed class Credentials(SecurityStore store, TimeProvider time)
{
    private const string KeyPrefix = "agora_";

    /// Creates an API key. The key itself (agora_{id}_{secret}) is returned here and never again.
    public (Credential Credential, string Key) CreateApiKey(string tenant, CredentialRequest request)
    {
        var (credential, secret) = Create(CredentialKind.ApiKey, "k", tenant, request);
        return (credential, KeyPrefix + credential.Id + "_" + secret);
    }

    /// Creates an OAuth2 client of Agora's issuer: its id is the credential id, its secret shown once.
    public (Credential Credential, string Secret) CreateClient(string tenant, CredentialRequest request) =>
        Create(CredentialKind.Client, "c", tenant, request);

    /// The active API key this string is, or null: unknown id, wrong secret, revoked or expired alike.
    public Credential? VerifyApiKey(string key)
    {
        if (!key.StartsWith(KeyPrefix, StringComparison.Ordinal))
        {
            return null;
        }
        var rest = key.AsSpan(KeyPrefix.Length);
        var separator = rest.IndexOf('_');
        return separator <= 0 ? null : Verify(CredentialKind.ApiKey, rest[..separator].ToString(), rest[(separator + 1)..].ToString());
    }

    /// The active client with this id and secret, or null.
    public Credential? VerifyClient(string clientId, string secret) => Verify(CredentialKind.Client, clientId, secret);

    private Credential? Verify(CredentialKind kind, string id, string secret)
    {
        if (id.Length > 64 || secret.Length > 128 || store.Find(kind, id) is not { } found)
        {
            return null;
        }
        return CryptographicOperations.FixedTimeEquals(Hash(secret), found.SecretHash) && found.Credential.IsActive(time.GetUtcNow())
            ? found.Credential
            : null;
    }

    private (Credential, string) Create(CredentialKind kind, string prefix, string tenant, CredentialRequest request)
    {
        var id = prefix + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        var secret = System.Buffers.Text.Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));
        var credential = new Credential(id, kind, tenant, request.Role, request.Types, request.Name, time.GetUtcNow(), request.ExpiresAt, null, request.RateLimit, request.Agreement, request.Consumer);
        store.Insert(credential, Hash(secret));
        return (credential, secret);
    }

    private static byte[] Hash(string secret) => SHA256.HashData(Encoding.UTF8.GetBytes(secret));
}
