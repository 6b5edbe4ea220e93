using System.Net;
using Agora.Security;
using static Agora.Tests.AgoraApplication;
using static Agora.Tests.NgsiLdAssert;

namespace Agora.Tests.Security;

public sealed class RateLimitTests
{
    [Fact]
    public async Task ACredentialOverItsLimitGets429WithRetryAfterAndOthersAreUnaffected()
    {
        await using var app = SecuredAgora.Create(("Agora:Security:RateLimit:PermitLimit", "3"), ("Agora:Security:RateLimit:Window", "00:00:30"));
        using var busy = app.Client(app.Key("", Role.Consumer));
        using var calm = app.Client(app.Key("", Role.Consumer));

        for (var i = 0; i < 3; i++)
        {
            using var ok = await busy.GetAsync(EntitiesPath + "?type=Building");
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }
        using var limited = await busy.GetAsync(EntitiesPath + "?type=Building");
        using var other = await calm.GetAsync(EntitiesPath + "?type=Building");

        var problem = await ProblemAsync(limited, HttpStatusCode.TooManyRequests, "TooManyRequests");
        Assert.Contains("3 requests", (string?)problem["detail"]);
        var retryAfter = limited.Headers.RetryAfter?.Delta;
        Assert.NotNull(retryAfter);
        Assert.InRange(retryAfter.Value.TotalSeconds, 1, 30);
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
    }

    [Fact]
    public async Task AKeyMayCarryItsOwnLimit()
    {
        await using var app = SecuredAgora.Create(("Agora:Security:RateLimit:Window", "00:00:30"));
        using var client = app.Client(app.Key("", Role.Consumer, rateLimit: 1));

        using var first = await client.GetAsync(EntitiesPath + "?type=Building");
        using var second = await client.GetAsync(EntitiesPath + "?type=Building");

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        await ProblemAsync(second, HttpStatusCode.TooManyRequests, "TooManyRequests");
    }
}
