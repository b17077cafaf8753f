import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiForbiddenResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { RequirePermission } from '../access-control/decorators';
import { Permission } from '../access-control/permission';
import { Actor, CurrentActor } from '../auth/actor.decorator';
import { CaseRefParam } from '../cases/dto';
import { ApiErrorDto } from '../common/api-error.dto';
import { CompartmentsService } from './compartments.service';
import { CompartmentDto, CompartmentIdParam, CompartmentStaffParam, NameCompartmentStaffDto, OpenCompartmentDto, PlaceRecordDto } from './dto';

const NOT_FOUND = { type: ApiErrorDto, description: 'No such case or compartment, or one you are not inside (the answers are identical)' };

@ApiTags('compartments')
@ApiBearerAuth()
@ApiForbiddenResponse({ type: ApiErrorDto })
@Controller()
export class CompartmentsController {
  constructor(private readonly compartments: CompartmentsService) {}

  @RequirePermission(Permission.CaseFileWrite)
  @Post('cases/:id/compartments')
  @ApiOperation({ summary: "Open your compartment on the case (a lead political peer on the team), naming clearing-house staff; returns it if it exists" })
  @ApiCreatedResponse({ type: CompartmentDto })
  @ApiNotFoundResponse(NOT_FOUND)
  open(@CurrentActor() actor: Actor, @Param() p: CaseRefParam, @Body() dto: OpenCompartmentDto): Promise<CompartmentDto> {
    return this.compartments.open(actor, p.id, dto.staffIds ?? []);
  }

  @RequirePermission(Permission.CaseFileRead)
  @Get('cases/:id/compartments')
  @ApiOperation({ summary: 'The compartments of the case you are inside (none for anyone else)' })
  @ApiOkResponse({ type: [CompartmentDto] })
  @ApiNotFoundResponse(NOT_FOUND)
  list(@CurrentActor() actor: Actor, @Param() p: CaseRefParam): Promise<CompartmentDto[]> {
    return this.compartments.list(actor, p.id);
  }

  @RequirePermission(Permission.CaseFileRead)
  @Get('compartments/:id')
  @ApiOperation({ summary: 'One compartment you are inside' })
  @ApiOkResponse({ type: CompartmentDto })
  @ApiNotFoundResponse(NOT_FOUND)
  get(@CurrentActor() actor: Actor, @Param() p: CompartmentIdParam): Promise<CompartmentDto> {
    return this.compartments.get(actor, p.id);
  }

  @RequirePermission(Permission.CaseFileWrite)
  @Post('compartments/:id/staff')
  @ApiOperation({ summary: 'Name a clearing-house officer or manager on your compartment' })
  @ApiCreatedResponse({ type: CompartmentDto })
  @ApiNotFoundResponse(NOT_FOUND)
  nameStaff(@CurrentActor() actor: Actor, @Param() p: CompartmentIdParam, @Body() dto: NameCompartmentStaffDto): Promise<CompartmentDto> {
    return this.compartments.nameStaff(actor, p.id, dto.userId);
  }

  @RequirePermission(Permission.CaseFileWrite)
  @Post('compartments/:id/staff/:userId/removal')
  @HttpCode(200)
  @ApiOperation({ summary: 'Take a colleague off your compartment: they lose sight of its records at once' })
  @ApiOkResponse({ type: CompartmentDto })
  @ApiNotFoundResponse(NOT_FOUND)
  removeStaff(@CurrentActor() actor: Actor, @Param() p: CompartmentStaffParam): Promise<CompartmentDto> {
    return this.compartments.removeStaff(actor, p.id, p.userId);
  }

  @RequirePermission(Permission.CaseFileWrite)
  @Post('compartments/:id/records')
  @ApiOperation({ summary: 'Place one of your conversation records of the case in your compartment (it cannot be taken out)' })
  @ApiCreatedResponse({ type: CompartmentDto })
  @ApiNotFoundResponse(NOT_FOUND)
  place(@CurrentActor() actor: Actor, @Param() p: CompartmentIdParam, @Body() dto: PlaceRecordDto): Promise<CompartmentDto> {
    return this.compartments.place(actor, p.id, dto.recordId);
  }
}
