import Foundation
import ImageGenCLI

exit(await ImageGenCommand.runMain())
