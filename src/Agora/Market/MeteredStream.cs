namespace Agora.Market;

/// The response body of a read through an agreement, passed on as it is written while counting its bytes and
/// the items of a top-level JSON array (the entities of a query answer), with no buffering and no parse.
internal sealed class MeteredStream(Stream inner) : Stream
{
    private int _depth;
    private bool _inString;
    private bool _escaped;
    private bool _array;

    public long Bytes { get; private set; }

    public long TopLevelItems { get; private set; }

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        Count(buffer);
        inner.Write(buffer);
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        Count(buffer.Span);
        return inner.WriteAsync(buffer, cancellationToken);
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    private void Count(ReadOnlySpan<byte> bytes)
    {
        Bytes += bytes.Length;
        foreach (var b in bytes)
        {
            if (_inString)
            {
                // The byte after a backslash is part of the string whatever it is; an unescaped quote ends it.
                if (_escaped)
                {
                    _escaped = false;
                }
                else if (b == '\\')
                {
                    _escaped = true;
                }
                else if (b == '"')
                {
                    _inString = false;
                }
                continue;
            }
            switch (b)
            {
                case (byte)'"':
                    _inString = true;
                    break;
                case (byte)'[' or (byte)'{':
                    if (_depth == 0)
                    {
                        _array = b == '[';
                    }
                    else if (_depth == 1 && _array)
                    {
                        TopLevelItems++;
                    }
                    _depth++;
                    break;
                case (byte)']' or (byte)'}':
                    _depth--;
                    break;
            }
        }
    }

    public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

    public override void Flush() => inner.Flush();

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
}
