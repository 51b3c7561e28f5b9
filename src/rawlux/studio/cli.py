"""``rawlux studio [FOLDER]``: serve the studio page for one folder of photos."""
from __future__ import annotations

import click

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


@click.command("studio")
@click.argument("folder", default=".", type=click.Path(file_okay=False, dir_okay=True, exists=True))
@click.option("--host", default="127.0.0.1", show_default=True, help="address to bind (keep it local)")
@click.option("--port", default=8765, show_default=True, type=click.IntRange(0, 65535), help="port to listen on")
@click.option("--open", "open_browser", is_flag=True, help="open the page in the default browser")
def studio(folder: str, host: str, port: int, open_browser: bool) -> None:
    """Tune, compare and export looks on the photos in FOLDER, in the browser."""
    import uvicorn

    from .app import create_app

    if host not in LOCAL_HOSTS:
        click.echo(f"warning: binding to {host}: anyone who can reach this address and read the page's token "
                   "can read and write photos in the folder; use 127.0.0.1 unless you mean it", err=True)
    app = create_app(folder)
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{port}/"
    click.echo(f"rawlux studio serving {folder} at {url}  (Ctrl+C to stop)")
    if open_browser:
        import threading
        import webbrowser
        threading.Timer(1.0, webbrowser.open, args=(url,)).start()
    uvicorn.run(app, host=host, port=port, log_level="warning")
