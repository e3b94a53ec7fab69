"""The ``seccomp-command`` directive: the reference of the `seccomp` command, generated from
its argument parser (`seccomp.cli.build_parser`), so the page cannot drift from the code.

For the command and each subcommand it writes a section: the one-line help, the description,
and the ``--help`` text (usage and every option) as a literal block.
"""
import argparse
import functools

from docutils import nodes
from sphinx.util.docutils import SphinxDirective


def _subparsers(parser):
    for action in parser._actions:  # argparse keeps no public list of subcommands
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help for a in action._choices_actions}
            for name, sub in action.choices.items():
                yield name, helps.get(name, ""), sub


class SeccompCommand(SphinxDirective):
    has_content = False

    def _section(self, title, summary, parser):
        section = nodes.section(ids=[nodes.make_id(title)])
        section += nodes.title(text=title)
        if summary:
            section += nodes.paragraph(text=summary[:1].upper() + summary[1:] + ".")
        # a fixed width, not the terminal's: the page is the same wherever it is built
        parser.formatter_class = functools.partial(parser.formatter_class, width=90)
        help_text = parser.format_help()
        section += nodes.literal_block(help_text, help_text, language="text")
        return section

    def run(self):
        from seccomp.cli import build_parser

        parser = build_parser()
        out = [self._section("seccomp", "", parser)]
        for name, summary, sub in _subparsers(parser):
            out.append(self._section("seccomp " + name, summary, sub))
        return out


def setup(app):
    app.add_directive("seccomp-command", SeccompCommand)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
